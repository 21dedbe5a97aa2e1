/**
 * The simulated trading day. A session is 6.5 hours of event time (09:30–16:00 in New York),
 * opening at the simulator's first trade; sessions follow each other with no overnight gap, so
 * a run at any hour trades. Trading intensity over a session is U-shaped: `--rate` is the rate
 * at the open and the close (so a paced run never reads faster than it asks, and `npm start`
 * opens at 1,000 trades/s), a third of it at midday, 5/9 of it on average.
 * docs/simulator.md describes the model.
 */
export const SESSION_MS = 6.5 * 3_600_000;

const MIDDAY = 1 / 3;
/** intensity(0) = intensity(1) = MIDDAY + EDGE_EXTRA = 1: the bells trade at the full rate. */
const EDGE_EXTRA = 2 / 3;
/** The session's mean intensity, ∫₀¹ intensity: the average rate is this share of `--rate`. */
export const MEAN_INTENSITY = MIDDAY + EDGE_EXTRA / 3;

/** Trading intensity at `phase` ∈ [0, 1) of a session (0 = open), relative to the open. */
export function intensity(phase: number): number {
  const d = 2 * phase - 1;
  return MIDDAY + EDGE_EXTRA * d * d;
}

/** ∫₀^phase intensity: at the close, MEAN_INTENSITY. */
export function cumulativeIntensity(phase: number): number {
  const d = 2 * phase - 1;
  return MIDDAY * phase + (EDGE_EXTRA / 6) * (d * d * d + 1);
}

/** How many trades a paced run at `ratePerSecond` (the rate at the bells) has made `elapsedMs` after the open. */
export function tradesDue(elapsedMs: number, ratePerSecond: number, sessionMs = SESSION_MS): number {
  const sessions = elapsedMs / sessionMs;
  const whole = Math.floor(sessions);
  return ratePerSecond * (sessionMs / 1000) * (whole * MEAN_INTENSITY + cumulativeIntensity(sessions - whole));
}

/**
 * The synthetic event-time clock of an unpaced run: one trade per `stepMs` at the open and the
 * close, three times that gap at midday. Each gap follows the intensity where the clock is,
 * exact enough at a millisecond a step (a session has millions of steps) and no more than a
 * few multiply-adds per trade.
 */
export class SessionClock {
  readonly #startMs: number;
  readonly #stepMs: number;
  readonly #sessionMs: number;
  #elapsed = 0;

  constructor(startMs: number, stepMs: number, sessionMs = SESSION_MS) {
    this.#startMs = startMs;
    this.#stepMs = stepMs;
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
