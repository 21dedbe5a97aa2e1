/** A small seeded PRNG (mulberry32): the same seed gives the same market on every machine. */
export class SeededRandom {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }

  /**
   * Two independent standard normals (Box–Muller) into z[0] and z[1]. Written into an array
   * rather than returned: a returned double is a new heap object whenever the call is not
   * inlined, two per simulated trade.
   */
  normals(z: Float64Array): void {
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    z[0] = r * Math.cos(2 * Math.PI * v);
    z[1] = r * Math.sin(2 * Math.PI * v);
  }
}
