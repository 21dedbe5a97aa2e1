/**
 * The simulated trading day. A session is 6.5 hours of event time (09:30–16:00 in New York),
 * opening at the simulator's first trade; sessions follow each other with no overnight gap, so
 * a run at any hour trades at its requested average rate. Trading intensity over a session is
 * U-shaped — busy at the open and close, quiet at midday — and averages 1, so `--rate` is the
 * session's mean rate. docs/simulator.md describes the model.
 */
export const SESSION_MS = 6.5 * 3_600_000;

const MIDDAY = 0.6;
/** intensity(0) = intensity(1) = MIDDAY + EDGE_EXTRA: 1.8× the average at the bells. */
const EDGE_EXTRA = 1.2;

/** Relative trading intensity at `phase` ∈ [0, 1) of a session (0 = open). */
export function intensity(phase: number): number {
  const d = 2 * phase - 1;
  return MIDDAY + EDGE_EXTRA * d * d;
}

/** ∫₀^phase intensity: the share of a session's trades done by `phase` (1 at the close). */
export function cumulativeIntensity(phase: number): number {
  const d = 2 * phase - 1;
  return MIDDAY * phase + (EDGE_EXTRA / 6) * (d * d * d + 1);
}

/** How many trades a paced run at an average `ratePerSecond` has made `elapsedMs` after the open. */
export function tradesDue(elapsedMs: number, ratePerSecond: number, sessionMs = SESSION_MS): number {
  const sessions = elapsedMs / sessionMs;
  const whole = Math.floor(sessions);
  return ratePerSecond * (sessionMs / 1000) * (whole + cumulativeIntensity(sessions - whole));
}

/**
 * The synthetic event-time clock of an unpaced run: on average one trade per `meanStepMs`, the
 * gaps shorter at the open and close. Gaps follow the intensity where the clock is, which is
 * exact enough at a millisecond a step (a session has millions of steps) and costs no more
 * than a multiply-add per trade.
 */
export class SessionClock {
  readonly #startMs: number;
  readonly #stepMs: number;
  readonly #sessionMs: number;
  #elapsed = 0;

  constructor(startMs: number, meanStepMs: number, sessionMs = SESSION_MS) {
    this.#startMs = startMs;
    this.#stepMs = meanStepMs;
    this.#sessionMs = sessionMs;
  }

  /** The next trade's event time, epoch ms (never decreasing). */
  next(): number {
    let phase = this.#elapsed / this.#sessionMs;
    phase -= Math.floor(phase);
    this.#elapsed += this.#stepMs / intensity(phase);
    return this.#startMs + Math.floor(this.#elapsed);
  }
}
