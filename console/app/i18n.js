// Chinese (default) and English. Messages live in locales/<code>.json - the same files the
// ops report (python -m local report --lang) reads its labels from.

const STORAGE_KEY = "complaints.console.lang";
export const LANGUAGES = [
  { code: "zh-CN", name: "中文" },
  { code: "en", name: "English" },
];
const DEFAULT_LANGUAGE = "zh-CN";

let current = DEFAULT_LANGUAGE;
let messages = {};
const loaded = new Map();
const listeners = new Set();

export function language() {
  return current;
}

export function storedLanguage() {
  const stored = safeStorage()?.getItem(STORAGE_KEY);
  return LANGUAGES.some((l) => l.code === stored) ? stored : DEFAULT_LANGUAGE;
}

async function fetchMessages(code) {
  if (!loaded.has(code)) {
    const url = new URL(`locales/${code}.json`, import.meta.url);
    loaded.set(code, fetch(url).then((r) => {
      if (!r.ok) throw new Error(`${url}: ${r.status}`);
      return r.json();
    }));
  }
  try {
    return await loaded.get(code);
  } catch (error) {
    loaded.delete(code);
    throw error;
  }
}

/** Switch to `code` (remembered in localStorage), then tell every listener. */
export async function setLanguage(code, { remember = true } = {}) {
  if (!LANGUAGES.some((l) => l.code === code)) code = DEFAULT_LANGUAGE;
  messages = await fetchMessages(code);
  current = code;
  document.documentElement.lang = code;
  document.title = t("app.title");
  if (remember) safeStorage()?.setItem(STORAGE_KEY, code);
  for (const listener of listeners) listener(code);
}

export function onLanguageChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function lookup(path) {
  let node = messages;
  for (const part of path.split(".")) {
    if (node === null || typeof node !== "object" || !(part in node)) return undefined;
    node = node[part];
  }
  return typeof node === "string" ? node : undefined;
}

/** The message `key` ("queue.heading") with `{name}` placeholders filled in. */
export function t(key, params = {}) {
  const text = lookup(key) ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** The display name of a domain value (label("category", "lost_parcel")); the value itself if unknown. */
export function label(kind, value) {
  if (value === null || value === undefined || value === "") return "–";
  return messages.labels?.[kind]?.[value] ?? String(value);
}

export function labels(kind) {
  return messages.labels?.[kind] ?? {};
}

/** A system time for people: "2026-11-22 16:15" in the browser's time zone (unambiguous in both languages). */
export function formatTime(iso, { seconds = false } = {}) {
  if (!iso) return "–";
  const moment = iso instanceof Date ? iso : new Date(iso);
  if (Number.isNaN(moment.getTime())) return String(iso);
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-GB", {
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  }).formatToParts(moment).map((p) => [p.type, p.value]));
  const time = `${parts.hour}:${parts.minute}${seconds ? `:${parts.second}` : ""}`;
  return `${parts.year}-${parts.month}-${parts.day} ${time}`;
}

const UNITS = {
  "zh-CN": { d: "天", h: "小时", m: "分", s: "秒", sep: "" },
  en: { d: " d", h: " h", m: " min", s: " s", sep: " " },
};

/** 93784 -> "1 d 2 h" / "1天2小时"; two largest units, minutes below a day. */
export function formatDuration(totalSeconds) {
  const u = UNITS[current] ?? UNITS.en;
  let s = Math.max(0, Math.round(Math.abs(totalSeconds)));
  const d = Math.floor(s / 86400); s -= d * 86400;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  const parts = d ? [[d, u.d], [h, u.h]] : h ? [[h, u.h], [m, u.m]] : m ? [[m, u.m], [s, u.s]] : [[s, u.s]];
  return parts.filter(([n], i) => i === 0 || n).map(([n, unit]) => `${n}${unit}`).join(u.sep);
}

export function formatMoney(money) {
  if (!money || money.amount === undefined) return "–";
  return `${money.amount} ${money.currency ?? "CNY"}`;
}

function safeStorage() {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}
