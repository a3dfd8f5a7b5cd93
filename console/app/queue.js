// A team's queue: open complaints soonest due first (the API's order), live countdowns, amber
// when at risk, red when breached, VIP/gold and paused marks. Refreshes by itself.
import { path } from "./api.js";
import { nextDue } from "./clock.js";
import { h, replace } from "./dom.js";
import { countdownText, levelMark, severityBadge, stateWord, statusBadge, tierMark } from "./format.js";
import { formatTime, label, t } from "./i18n.js";

const PAGE = 50;
const MAX_PAGE = 100; // the API's limit

export class QueueView {
  constructor({ api, clock, refreshMs, onError }) {
    this.api = api;
    this.clock = clock;
    this.refreshMs = refreshMs;
    this.onError = onError;
    this.team = null;
    this.selected = null;
    this.items = [];
    this.next = null;
    this.loadedAt = null;
    this.error = null;
    this.inFlight = null;
    this.element = h("section", { class: "queue-pane", "aria-labelledby": "queue-heading" });
    this.timer = setInterval(() => {
      if (!document.hidden && this.team) this.refresh();
    }, refreshMs);
  }

  dispose() {
    clearInterval(this.timer);
  }

  show(team, selected) {
    const changed = team !== this.team;
    this.team = team;
    this.selected = selected;
    if (changed) {
      this.items = [];
      this.next = null;
      this.loadedAt = null;
      this.error = null;
      this.render();
      this.refresh();
    } else {
      this.markSelected();
    }
  }

  /** Reload the first page (as many items as are shown, up to the API's limit). */
  refresh() {
    if (!this.team) return Promise.resolve();
    if (this.inFlight) return this.inFlight;
    const team = this.team;
    const limit = Math.min(MAX_PAGE, Math.max(PAGE, this.items.length));
    this.inFlight = this.api.get(path.queue(team, limit))
      .then((page) => {
        if (team !== this.team) return;
        this.items = page.items ?? [];
        this.next = page.next ?? null;
        this.loadedAt = new Date();
        this.error = null;
        this.render();
      })
      .catch((error) => {
        if (team !== this.team) return;
        this.error = error;
        this.render();
        this.onError?.(error);
      })
      .finally(() => { this.inFlight = null; });
    return this.inFlight;
  }

  async loadMore() {
    if (!this.next) return;
    const team = this.team;
    const page = await this.api.get(path.queue(team, PAGE, this.next));
    if (team !== this.team) return;
    const known = new Set(this.items.map((i) => i.complaint_id));
    this.items.push(...(page.items ?? []).filter((i) => !known.has(i.complaint_id)));
    this.next = page.next ?? null;
    this.render();
  }

  render() {
    const team = this.team;
    const heading = h("h2", { id: "queue-heading" }, t("queue.heading", { team: label("team", team) }));
    const meta = h("p", { class: "meta" },
      this.loadedAt ? `${t("queue.count", { count: this.items.length })} · ${t("queue.updated", { time: formatTime(this.loadedAt, { seconds: true }) })}` : t("app.loading"));
    const refresh = h("button", { type: "button", class: "quiet", onclick: () => this.refresh() }, t("queue.refresh"));
    const parts = [h("div", { class: "pane-head" }, heading, refresh), meta];
    if (this.error) parts.push(h("p", { class: "error", role: "alert" }, this.error.status === 0 ? t("errors.network") : this.error.message));
    if (this.loadedAt && !this.items.length) parts.push(h("p", { class: "empty" }, t("queue.empty")));
    if (this.items.length) parts.push(this.table());
    if (this.next) parts.push(h("button", { type: "button", class: "quiet more", onclick: () => this.loadMore() }, t("queue.more")));
    replace(this.element, parts);
  }

  table() {
    const now = this.clock.now();
    const head = h("thead", {}, h("tr", {},
      [t("queue.col_due"), t("queue.col_id"), `${t("queue.col_category")} · ${t("queue.col_status")}`, t("queue.col_level")]
        .map((text) => h("th", { scope: "col" }, text))));
    const body = h("tbody", {}, this.items.map((item) => this.row(item, now)));
    return h("div", { class: "table-scroll" }, h("table", { class: "queue" },
      h("caption", { class: "visually-hidden" }, t("queue.heading", { team: label("team", this.team) })), head, body));
  }

  row(item, now) {
    const next = nextDue(item, now);
    const href = `#/${this.team}/${encodeURIComponent(item.complaint_id)}`;
    const paused = item.status === "pending_customer" || next?.state === "paused";
    const tr = h("tr", {
      class: `state-${next?.state ?? "none"}`, dataset: { id: item.complaint_id },
      "aria-current": item.complaint_id === this.selected ? "true" : false,
      onclick: (event) => {
        if (event.target.closest("a")) return;
        window.location.hash = href;
      },
    },
    h("td", { class: "due" }, this.dueCell(next)),
    h("td", { class: "id" },
      h("a", { href }, item.complaint_id),
      h("span", { class: "who" }, severityBadge(item.severity), " ",
        h("span", { class: "customer", title: t("queue.col_customer") }, item.customer_id), " ", tierMark(item.tier)),
      item.description ? h("span", { class: "snippet" }, item.description) : null),
    h("td", { class: "case" },
      h("span", { class: "category" }, label("category", item.category)),
      h("span", { class: "marks" }, statusBadge(item.status),
        paused && item.status !== "pending_customer" ? h("span", { class: "mark paused" }, t("clock.paused")) : null,
        item.failure ? h("span", { class: "mark failed" }, t("queue.failed_mark")) : null)),
    h("td", {}, levelMark(item.escalation_level) ?? "–"));
    return tr;
  }

  dueCell(next) {
    const word = next ? stateWord(next.state) : "";
    return [
      h("span", { class: "countdown" }, countdownText(next)),
      word ? h("span", { class: "state-word" }, word) : null,
      next?.clock ? h("span", { class: "clock-name" }, label("clock", next.clock.name)) : null,
    ];
  }

  /** Once a second: countdowns and colours move on without a reload. */
  tick() {
    const now = this.clock.now();
    const byId = new Map(this.items.map((i) => [i.complaint_id, i]));
    for (const tr of this.element.querySelectorAll("tbody tr")) {
      const item = byId.get(tr.dataset.id);
      if (!item) continue;
      const next = nextDue(item, now);
      tr.className = `state-${next?.state ?? "none"}`;
      replace(tr.querySelector("td.due"), this.dueCell(next));
    }
  }

  markSelected() {
    for (const tr of this.element.querySelectorAll("tbody tr")) {
      if (tr.dataset.id === this.selected) tr.setAttribute("aria-current", "true");
      else tr.removeAttribute("aria-current");
    }
  }
}
