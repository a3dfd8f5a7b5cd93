// Service-level clocks as the staff views of the API give them, and what the console shows of
// them: a countdown to the next due time, amber once at risk, red once breached, "paused"
// while the complaint waits for the customer. Pure functions of (document, now).

/**
 * The clocks of a complaint or queue item: [{name, due, atRiskAt, paused, remainingS,
 * breached, level, stopped}] with Date values. Uses `clocks` when the API gives them per
 * clock, else the `first_contact_due` / `resolution_due` of the document.
 */
export function clocksOf(doc) {
  const paused = doc.status === "pending_customer";
  if (doc.clocks && typeof doc.clocks === "object") {
    return Object.entries(doc.clocks).map(([name, c]) => ({
      name,
      due: date(c.due),
      atRiskAt: date(c.at_risk_at),
      paused: Boolean(c.paused) || (paused && name === "resolution" && !c.stopped_at),
      remainingS: typeof c.remaining_s === "number" ? c.remaining_s : null,
      breached: Boolean(c.breached),
      level: Number(c.level ?? 0),
      stopped: date(c.stopped_at),
    }));
  }
  return ["first_contact", "resolution"]
    .filter((name) => doc[`${name}_due`])
    .map((name) => ({
      name, due: date(doc[`${name}_due`]), atRiskAt: null, paused: paused && name === "resolution",
      remainingS: null, breached: false, level: 0, stopped: null,
    }));
}

/** "stopped" | "paused" | "breached" | "at_risk" | "ok" for one clock at `now`. */
export function clockState(clock, now) {
  if (clock.stopped) return "stopped";
  if (clock.paused) return "paused";
  if (clock.breached || (clock.due && now >= clock.due)) return "breached";
  if (clock.atRiskAt && now >= clock.atRiskAt) return "at_risk";
  return "ok";
}

const RANK = { breached: 0, at_risk: 1, ok: 2, paused: 3, stopped: 4 };

/**
 * What a queue row shows: the running clock due soonest (a paused one only if nothing else
 * runs) with its state and the seconds left (negative once overdue; the frozen remainder
 * while paused). `null` when no clock runs.
 */
export function nextDue(doc, now) {
  const clocks = clocksOf(doc).filter((c) => !c.stopped);
  if (!clocks.length) return null;
  const running = clocks.filter((c) => !c.paused);
  const pool = running.length ? running : clocks;
  pool.sort((a, b) => (a.due?.getTime() ?? Infinity) - (b.due?.getTime() ?? Infinity));
  const clock = pool[0];
  const state = clockState(clock, now);
  const worst = clocks.map((c) => clockState(c, now)).sort((a, b) => RANK[a] - RANK[b])[0];
  const secondsLeft = clock.paused
    ? clock.remainingS
    : clock.due ? Math.round((clock.due.getTime() - now.getTime()) / 1000) : null;
  return { clock, state: RANK[worst] < RANK[state] ? worst : state, secondsLeft };
}

function date(value) {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

/**
 * The system's clock. In AWS it is the wall clock (corrected by the API's Date header when the
 * browser's clock is off); the local system runs time-scaled and says so in config.json.
 */
export class SystemClock {
  constructor(scaled) {
    this.scale = scaled?.scale ?? 1;
    this.epoch = scaled?.epoch ?? null;
    this.offsetMs = 0;
  }

  now() {
    const wall = Date.now() + this.offsetMs;
    if (this.scale !== 1 && this.epoch !== null) {
      const epochMs = this.epoch * 1000;
      return new Date(epochMs + (wall - epochMs) * this.scale);
    }
    return new Date(wall);
  }

  /** Learn the browser's clock error from a response's Date header (ignored below 5 s). */
  observe(dateHeader) {
    const server = Date.parse(dateHeader ?? "");
    if (Number.isNaN(server)) return;
    const offset = server - Date.now();
    this.offsetMs = Math.abs(offset) > 5000 ? offset : 0;
  }
}
