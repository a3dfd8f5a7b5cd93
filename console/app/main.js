// The console: sign-in, then a team's queue next to the complaint that is open.
// Routes: #/<team> and #/<team>/<complaint id>. No framework, no build step.
import { createApi } from "./api.js";
import { Auth, canSeeReports, isStaff } from "./auth.js";
import { SystemClock } from "./clock.js";
import { DetailView } from "./detail.js";
import { h, replace, uid } from "./dom.js";
import { LANGUAGES, label, language, onLanguageChange, setLanguage, storedLanguage, t } from "./i18n.js";
import { QueueView } from "./queue.js";

const TEAMS = ["product", "logistics", "service"];
const TEAM_KEY = "complaints.console.team";
const root = document.getElementById("app");

async function loadConfig() {
  const response = await fetch(new URL("config.json", document.baseURI), { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json: ${response.status}`);
  return response.json();
}

function route() {
  const [team, id] = window.location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  const remembered = localStorage.getItem(TEAM_KEY);
  return {
    team: TEAMS.includes(team) ? team : TEAMS.includes(remembered) ? remembered : "product",
    id: id || null,
  };
}

function languageSwitch() {
  return h("div", { class: "lang", role: "group", "aria-label": t("app.language") },
    LANGUAGES.map(({ code, name }) => h("button", {
      type: "button", lang: code, "aria-pressed": String(code === language()),
      onclick: () => setLanguage(code),
    }, name)));
}

class ConsoleApp {
  constructor(config) {
    this.config = config;
    this.clock = new SystemClock(config.clock);
    this.auth = new Auth(config.auth, () => {});
    this.notice = null;
    this.api = createApi({
      base: config.api,
      token: () => this.auth.token(),
      clock: this.clock,
      onUnauthorized: () => this.expire(),
    });
    this.status = h("div", { class: "toast", role: "status", "aria-live": "polite" });
    this.views = null;
    onLanguageChange(() => this.render({ relabel: true }));
    window.addEventListener("hashchange", () => this.navigate());
    setInterval(() => this.views?.queue.tick() ?? null, 1000);
    setInterval(() => this.views?.detail.tick() ?? null, 1000);
  }

  async start() {
    try {
      await this.auth.completeCognito();
    } catch (error) {
      this.notice = t("signin.failed", { message: error.message });
    }
    this.render();
  }

  expire() {
    if (!this.auth.session) return;
    this.auth.signOut({ expired: true });
    this.notice = t("signin.expired");
    this.render();
  }

  announce(message) {
    this.status.textContent = message;
    clearTimeout(this.statusTimer);
    this.statusTimer = setTimeout(() => { this.status.textContent = ""; }, 8000);
  }

  render({ relabel = false } = {}) {
    const session = this.auth.session;
    if (!session || !isStaff(session)) {
      if (session && !isStaff(session)) this.notice = t("signin.staff_only", { group: session.groups.join(", ") || "–" });
      this.disposeViews();
      replace(root, this.signIn(), this.status);
      return;
    }
    if (!this.views) {
      this.views = {
        queue: new QueueView({ api: this.api, clock: this.clock, refreshMs: (this.config.refresh_s?.queue ?? 5) * 1000 }),
        detail: new DetailView({
          api: this.api, clock: this.clock, refreshMs: (this.config.refresh_s?.detail ?? 10) * 1000,
          announce: (m) => this.announce(m),
          onChanged: () => this.views?.queue.refresh(),
          backHref: () => `#/${route().team}`,
        }),
      };
    } else if (relabel) {
      this.views.detail.relabel();
      this.views.queue.render();
    }
    const panes = h("main", { class: "panes", id: "main" }, this.views.queue.element, this.views.detail.element);
    replace(root, this.header(session), panes, this.status);
    this.navigate();
  }

  disposeViews() {
    if (!this.views) return;
    this.views.queue.dispose();
    this.views.detail.dispose();
    this.views = null;
  }

  navigate() {
    if (!this.views) return;
    const { team, id } = route();
    localStorage.setItem(TEAM_KEY, team);
    document.body.classList.toggle("has-detail", Boolean(id));
    for (const a of root.querySelectorAll("nav.teams a")) {
      if (a.dataset.team === team) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    this.views.queue.show(team, id);
    this.views.detail.show(id);
  }

  header(session) {
    const group = session.groups.find((g) => g === "supervisors") ?? session.groups.find((g) => g === "agents") ?? session.groups[0];
    const teams = h("nav", { class: "teams", "aria-label": t("queue.teams") },
      TEAMS.map((team) => h("a", { href: `#/${team}`, dataset: { team } }, label("team", team))));
    return h("header", { class: "topbar" },
      h("h1", {}, t("app.title")),
      teams,
      h("div", { class: "spacer" }),
      canSeeReports(session) && this.config.report ? this.reportLink() : null,
      languageSwitch(),
      h("span", { class: "who" }, t("app.signed_in_as", { user: session.user, group: label("group", group) })),
      h("button", { type: "button", class: "quiet", onclick: () => { this.auth.signOut(); this.notice = null; this.render(); } }, t("app.sign_out")));
  }

  reportLink() {
    const today = this.clock.now();
    const day = (d) => d.toISOString().slice(0, 10);
    const from = new Date(today.getTime() - 6 * 86400000);
    const fromId = uid("report-from");
    const toId = uid("report-to");
    const fromInput = h("input", { id: fromId, type: "date", value: day(from), required: true });
    const toInput = h("input", { id: toId, type: "date", value: day(today), required: true });
    const message = h("p", { class: "form-error", role: "alert", hidden: true });
    const form = h("form", { class: "report-form" },
      h("label", { for: fromId }, t("app.report_from")), fromInput,
      h("label", { for: toId }, t("app.report_to")), toInput,
      h("button", { type: "submit" }, t("app.report_open")), message);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      message.hidden = true;
      // The window opens now, inside the click (no popup blocker), and goes to the report once known.
      const win = window.open("about:blank", "_blank");
      const end = new Date(`${toInput.value}T00:00:00Z`);
      const params = { from: fromInput.value, to: day(new Date(end.getTime() + 86400000)), lang: language() };
      try {
        const url = await this.reportUrl(params);
        if (win) win.location.href = url;
        else window.location.assign(url);
      } catch (error) {
        win?.close();
        message.textContent = error.message;
        message.hidden = false;
      }
    });
    return h("details", { class: "report" }, h("summary", {}, t("app.report")), form);
  }

  /** Local system: a one-time link from the local runtime for the signed-in supervisor;
   *  AWS: the report location ops configured (placeholders {from}, {to}, {lang}). */
  async reportUrl(params) {
    const report = this.config.report;
    if (report.mode === "local") {
      const response = await fetch(new URL(report.link_url, document.baseURI), {
        method: "POST", cache: "no-store",
        headers: { Authorization: `Bearer ${await this.auth.token()}`, "Content-Type": "application/json" },
        body: JSON.stringify(params),
      });
      const data = await response.json().catch(() => null);
      if (!response.ok) throw new Error(data?.error?.message ?? String(response.status));
      return new URL(data.url, document.baseURI).toString();
    }
    return report.url.replace(/\{(from|to|lang)\}/g, (_, k) => encodeURIComponent(params[k]));
  }

  signIn() {
    const local = this.auth.mode === "local";
    const notice = this.notice ? h("p", { class: "form-error", role: "alert" }, this.notice) : null;
    const error = h("p", { class: "form-error", role: "alert", hidden: true });
    let form;
    if (local) {
      const userId = uid("user");
      const groupId = uid("group");
      const user = h("input", { id: userId, name: "user", autocomplete: "username", required: true, value: "A-7" });
      const group = h("select", { id: groupId, name: "group" },
        ["agents", "supervisors"].map((g) => h("option", { value: g }, `${label("group", g)} (${g})`)));
      const button = h("button", { type: "submit", class: "primary" }, t("signin.submit"));
      form = h("form", { class: "signin-form", "aria-labelledby": "signin-heading" },
        h("div", { class: "field" }, h("label", { for: userId }, t("signin.user")), user),
        h("div", { class: "field" }, h("label", { for: groupId }, t("signin.group")), group),
        error, button);
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        error.hidden = true;
        button.disabled = true;
        try {
          await this.auth.signInLocal(user.value.trim(), group.value);
          this.notice = null;
          this.render();
        } catch (e) {
          error.textContent = t("signin.failed", { message: e.message });
          error.hidden = false;
        } finally {
          button.disabled = false;
        }
      });
    } else {
      form = h("form", { class: "signin-form", "aria-labelledby": "signin-heading" },
        error, h("button", { type: "submit", class: "primary" }, t("signin.submit")));
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        this.auth.startCognito().catch((e) => {
          error.textContent = t("signin.failed", { message: e.message });
          error.hidden = false;
        });
      });
    }
    return h("main", { class: "signin", id: "main" },
      h("div", { class: "signin-card" },
        h("div", { class: "signin-top" }, h("h1", {}, t("app.title")), languageSwitch()),
        h("h2", { id: "signin-heading" }, t("signin.heading")),
        h("p", { class: "meta" }, t(local ? "signin.intro_local" : "signin.intro_cognito")),
        notice, form));
  }
}

async function boot() {
  try {
    const [config] = await Promise.all([loadConfig(), setLanguage(storedLanguage(), { remember: false })]);
    await new ConsoleApp(config).start();
  } catch (error) {
    replace(root, h("p", { class: "error", role: "alert" }, `The console could not start: ${error.message}`));
  }
}

boot();
