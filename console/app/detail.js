// One complaint as staff see it: customer, order, amount, product, desired outcome, the text,
// triage with its reasons, clocks with due times, vouchers, satisfaction, the whole staff
// timeline (internal entries marked), and the actions.
import { ActionsPanel } from "./actions.js";
import { path } from "./api.js";
import { clockState, clocksOf } from "./clock.js";
import { h, replace } from "./dom.js";
import { countdownText, levelMark, severityBadge, stateWord, statusBadge, tierMark } from "./format.js";
import { formatDuration, formatMoney, formatTime, label, labels, t } from "./i18n.js";

const MAX_DRAFTS = 30; // complaints whose unsent action forms are kept while the agent moves around
const TIME_KEYS = new Set(["due", "next_due", "expires_at", "first_contact_due", "raised_at", "at"]);

export class DetailView {
  constructor({ api, clock, refreshMs, onChanged, announce, backHref }) {
    this.api = api;
    this.clock = clock;
    this.onChanged = onChanged;
    this.announce = announce;
    this.backHref = backHref;
    this.id = null;
    this.doc = null;
    this.error = null;
    this.panels = new Map();
    this.inFlight = null;
    this.element = h("section", { class: "detail-pane", "aria-labelledby": "detail-heading" });
    this.timer = setInterval(() => {
      if (!document.hidden && this.id) this.reload().catch(() => {});
    }, refreshMs);
    this.render();
  }

  dispose() {
    clearInterval(this.timer);
  }

  async show(id) {
    if (id === this.id) return;
    this.id = id;
    this.doc = null;
    this.error = null;
    this.render();
    if (id) await this.reload().catch(() => {});
  }

  /** GET the complaint again and render it (the actions panel and its drafts stay). */
  reload() {
    const id = this.id;
    if (!id) return Promise.resolve();
    if (this.inFlight?.id === id) return this.inFlight.promise;
    const promise = this.api.get(path.complaint(id))
      .then((doc) => {
        if (id !== this.id) return;
        this.doc = doc;
        this.error = null;
        this.render();
      })
      .catch((error) => {
        if (id !== this.id) return;
        this.error = error;
        this.render();
        throw error;
      })
      .finally(() => { if (this.inFlight?.promise === promise) this.inFlight = null; });
    this.inFlight = { id, promise };
    return promise;
  }

  panelFor(doc) {
    let panel = this.panels.get(doc.complaint_id);
    if (!panel) {
      panel = new ActionsPanel({
        api: this.api, doc, announce: this.announce,
        onDone: async (action) => {
          await this.reload();
          this.onChanged?.(action);
        },
      });
      this.panels.set(doc.complaint_id, panel);
      if (this.panels.size > MAX_DRAFTS) this.panels.delete(this.panels.keys().next().value);
    } else {
      panel.update(doc);
    }
    return panel;
  }

  relabel() {
    for (const panel of this.panels.values()) panel.relabel();
    this.render();
  }

  render() {
    const back = h("a", { class: "back", href: this.backHref() }, `← ${t("detail.back")}`);
    if (!this.id) {
      replace(this.element, h("p", { class: "empty", id: "detail-heading" }, t("detail.none")));
      return;
    }
    if (!this.doc) {
      const message = this.error
        ? (this.error.status === 404 ? t("detail.not_found", { id: this.id }) : this.error.status === 0 ? t("errors.network") : this.error.message)
        : t("app.loading");
      replace(this.element, back, h("h2", { id: "detail-heading" }, this.id),
        h("p", { class: this.error ? "error" : "meta", role: this.error ? "alert" : null }, message));
      return;
    }
    const doc = this.doc;
    const head = h("header", { class: "detail-head" },
      back,
      h("h2", { id: "detail-heading" }, doc.complaint_id),
      h("div", { class: "badges" }, statusBadge(doc.status), severityBadge(doc.severity), tierMark(doc.tier), levelMark(doc.escalation_level)),
      h("button", { type: "button", class: "quiet", onclick: () => this.reload().catch(() => {}) }, t("detail.refresh")),
    );
    const warning = this.error ? h("p", { class: "error", role: "alert" }, this.error.status === 0 ? t("errors.network") : this.error.message) : null;
    const failure = doc.failure ? h("p", { class: "error" }, `${t("detail.failure")}: ${doc.failure}`) : null;
    const main = h("div", { class: "detail-main" },
      this.textCard(doc), this.factsCard(doc), this.triageCard(doc), this.clocksCard(doc), this.outcomeCard(doc));
    const side = h("div", { class: "detail-side" }, this.panelFor(doc).element, this.timelineCard(doc));
    replace(this.element, head, warning, failure, h("div", { class: "detail-grid" }, main, side));
  }

  textCard(doc) {
    return card("text", t("detail.text"),
      h("p", { class: "complaint-text", lang: doc.contact?.locale ?? null }, doc.description ?? ""),
      doc.attachments?.length
        ? h("div", {}, h("h4", {}, t("detail.attachments")), h("ul", { class: "plain" }, doc.attachments.map((a) => h("li", {}, h("code", {}, a.key ?? a)))))
        : null);
  }

  factsCard(doc) {
    const product = doc.product ? [doc.product.name, doc.product.sku, doc.product.kind ? label("kind", doc.product.kind) : null].filter(Boolean).join(" · ") : "–";
    const contact = doc.contact ? [doc.contact.phone, doc.contact.email, doc.contact.locale].filter(Boolean).join(" · ") : "–";
    return card("facts", t("detail.customer"), facts([
      [t("detail.customer"), [doc.customer_id, " ", tierMark(doc.tier)]],
      [t("detail.tier"), label("tier", doc.tier)],
      [t("detail.contact"), contact],
      [t("detail.order"), doc.order_id],
      [t("detail.amount"), formatMoney(doc.order_amount)],
      [t("detail.product"), product],
      [t("detail.desired_outcome"), label("outcome", doc.desired_outcome)],
      [t("detail.channel"), label("channel", doc.channel)],
      [t("detail.source"), doc.external_id ? `${doc.source} · ${doc.external_id}` : doc.source],
      [t("detail.created"), formatTime(doc.created_at)],
      [t("detail.updated"), formatTime(doc.updated_at)],
    ]));
  }

  triageCard(doc) {
    const reasons = doc.triage?.reasons ?? [];
    return card("triage", t("detail.triage"), facts([
      [t("detail.category"), label("category", doc.category)],
      [t("detail.severity"), doc.severity ?? "–"],
      [t("detail.team"), label("team", doc.team)],
      [t("detail.category_source"), label("category_source", doc.triage?.category_source)],
      [t("detail.escalation_level"), String(doc.escalation_level ?? 0)],
    ]), reasons.length ? h("div", {}, h("h4", {}, t("detail.reasons")), h("ul", { class: "reasons" }, reasons.map((r) => h("li", {}, r)))) : null);
  }

  clocksCard(doc) {
    this.clockBody = h("tbody", {}, this.clockRows(doc));
    return card("clocks", t("detail.clocks"), h("table", { class: "clocks" },
      h("thead", {}, h("tr", {}, ["clock", "due", "state", "level", "at_risk_at"].map((k) => h("th", { scope: "col" }, t(`detail.${k}`))))),
      this.clockBody));
  }

  clockRows(doc) {
    const now = this.clock.now();
    const clocks = clocksOf(doc);
    if (!clocks.length) return [h("tr", {}, h("td", { colspan: 5, class: "empty" }, t("clock.none")))];
    return clocks.map((c) => {
      const state = clockState(c, now);
      const secondsLeft = c.paused ? c.remainingS : c.due ? Math.round((c.due - now) / 1000) : null;
      const text = state === "stopped" ? t("clock.stopped", { time: formatTime(c.stopped) }) : countdownText({ state, secondsLeft });
      const word = stateWord(state);
      return h("tr", { class: `state-${state}` },
        h("th", { scope: "row" }, label("clock", c.name)),
        h("td", {}, formatTime(c.due)),
        h("td", { class: "due" }, h("span", { class: "countdown" }, text), word ? h("span", { class: "state-word" }, word) : null),
        h("td", {}, c.level ? `L${c.level}` : "–"),
        h("td", {}, c.atRiskAt ? formatTime(c.atRiskAt) : "–"));
    });
  }

  outcomeCard(doc) {
    const vouchers = doc.vouchers?.length
      ? h("ul", { class: "plain" }, doc.vouchers.map((v) => h("li", {}, `${v.amount} ${v.currency} · ${label("voucher_reason", v.reason)}${v.issued_at ? ` · ${formatTime(v.issued_at)}` : ""}`)))
      : h("p", { class: "empty" }, t("detail.no_vouchers"));
    const s = doc.satisfaction;
    const satisfaction = !s ? t("detail.no_rating")
      : s.feedback === "none" ? t("detail.no_feedback")
      : `${t("detail.score", { score: s.score })}${s.comment ? ` · “${s.comment}”` : ""}${s.rated_at ? ` · ${formatTime(s.rated_at)}` : ""}`;
    const resolution = doc.resolution
      ? facts(Object.entries(doc.resolution).map(([k, v]) => [label("detail", k), value(k, v)]))
      : null;
    return card("outcome", t("detail.vouchers"), vouchers,
      h("h4", {}, t("detail.satisfaction")), h("p", {}, satisfaction),
      resolution ? [h("h4", {}, t("detail.resolution")), resolution] : null);
  }

  timelineCard(doc) {
    const events = [...(doc.timeline ?? [])].reverse(); // newest first: what just happened is on top
    return card("timeline", t("detail.timeline"), h("ol", { class: "timeline", "aria-label": t("detail.timeline") },
      events.map((e) => {
        const detail = Object.entries(e.detail ?? {}).filter(([, v]) => v !== null && v !== "" && v !== undefined);
        return h("li", { class: `event event-${e.type}${e.internal ? " internal" : ""}`, dataset: { type: e.type } },
          h("div", { class: "event-head" },
            h("time", { datetime: e.at }, formatTime(e.at, { seconds: true })),
            h("strong", {}, label("event", e.type)),
            h("span", { class: "actor" }, e.actor),
            e.internal ? h("span", { class: "mark internal" }, t("detail.internal")) : null),
          detail.length ? facts(detail.map(([k, v]) => [
            label("detail", k),
            (e.internal_detail ?? []).includes(k) ? [value(k, v), " ", h("span", { class: "mark internal" }, t("detail.internal"))] : value(k, v),
          ]), "event-detail") : null);
      })));
  }

  /** Once a second: the clocks' countdowns. */
  tick() {
    if (this.doc && this.clockBody?.isConnected) replace(this.clockBody, this.clockRows(this.doc));
  }
}

function card(kind, title, ...children) {
  return h("section", { class: `card ${kind}` }, h("h3", {}, title), children);
}

function facts(rows, cls = "facts") {
  return h("dl", { class: cls }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "–")]));
}

// Detail keys whose values are domain words (a word the labels do not know is shown as it is).
const LABELLED = { category: "category", resolution: "outcome", clock: "clock", team: "team", channel: "channel",
  category_source: "category_source", status: "status" };

function value(key, v) {
  if (TIME_KEYS.has(key) && typeof v === "string") return formatTime(v);
  if (key === "remaining_s" && typeof v === "number") return formatDuration(v);
  if (key in LABELLED && typeof v === "string") return label(LABELLED[key], v);
  if (key === "reason" && typeof v === "string") return labels("voucher_reason")[v] ?? labels("pause_reason")[v] ?? v;
  if (v && typeof v === "object" && "amount" in v) return formatMoney(v);
  if (Array.isArray(v)) return v.join(", ");
  if (v && typeof v === "object") return Object.entries(v).map(([k, x]) => `${label("detail", k)}: ${value(k, x)}`).join(" · ");
  return String(v);
}
