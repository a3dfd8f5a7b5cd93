// Small renderers shared by the queue and the detail view.
import { h } from "./dom.js";
import { formatDuration, label, t } from "./i18n.js";

/** The countdown text of a clock summary from clock.nextDue (or "no running clock"). */
export function countdownText(next) {
  if (!next) return t("clock.none");
  if (next.state === "paused") {
    return next.secondsLeft === null ? t("clock.paused") : t("clock.paused_left", { time: formatDuration(next.secondsLeft) });
  }
  if (next.secondsLeft === null) return "–";
  if (next.state === "breached" && next.secondsLeft >= 0) return t("clock.breached_next", { time: formatDuration(next.secondsLeft) });
  return next.secondsLeft < 0
    ? t("clock.overdue", { time: formatDuration(next.secondsLeft) })
    : t("clock.in", { time: formatDuration(next.secondsLeft) });
}

/** A state word for screen readers and colour-blind people (colour is never the only signal). */
export function stateWord(state) {
  return state === "breached" ? t("clock.breached") : state === "at_risk" ? t("clock.at_risk") : state === "paused" ? t("clock.paused") : "";
}

export function tierMark(tier) {
  if (tier !== "vip" && tier !== "gold") return null;
  return h("span", { class: `mark tier-${tier}`, title: t("detail.tier") }, label("tier", tier));
}

export function statusBadge(status) {
  return h("span", { class: `badge status-${status}` }, label("status", status));
}

export function severityBadge(severity) {
  return severity ? h("span", { class: `badge sev-${severity}` }, label("severity", severity)) : null;
}

export function levelMark(level) {
  return level ? h("span", { class: "mark level", title: t("detail.escalation_level") }, `L${level}`) : null;
}
