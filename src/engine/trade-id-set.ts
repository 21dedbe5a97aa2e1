import { randomBytes } from 'node:crypto';

/**
 * The trade ids of the dedupe window, kept outside the JavaScript object graph and grouped in
 * generations that are dropped oldest first.
 *
 * - The characters of each id sit in one byte ring (a length byte, then the characters), in the
 *   order they were added; a generation is a run of consecutive entries, so dropping the oldest
 *   one frees the ring's tail and its bytes are reused by the next ids.
 * - One open-addressing table of (hash, ring offset) pairs in an Int32Array finds them; it is
 *   kept at most three quarters full and entries leave it by backward-shift deletion, so no
 *   tombstones build up. Lookups compare stored hashes before touching any characters.
 *
 * An id costs its length + 1 bytes of ring plus 11–21 bytes of table; the GC sees two typed
 * arrays. Keeping a whole second generation in a table of its own (the previous design) held up
 * to twice the window and twice the table: ≈ 67 MB against ≈ 20 MB for npm start's ten minutes
 * of ids.
 *
 * Ids with a character above U+00FF or over 255 characters (rare: the decoder's fast path only
 * yields ASCII) go to an ordinary Set per generation. The hash is seeded per process, so a
 * crafted stream of colliding ids cannot be prepared in advance.
 */
export class TradeIdSet {
  /** Pairs (hash, offset + 1) per slot; offset + 1 = 0 marks an empty slot. */
  #slots: Int32Array;
  #mask: number;
  #count = 0;
  #ring: Uint8Array;
  /** Entries occupy [tail, head), or [tail, wrapAt) then [0, head) once head has wrapped. */
  #head = 0;
  #tail = 0;
  #wrapAt = -1;
  /** Ring entries per generation, oldest first; the last is the one being added to. */
  readonly #generations: number[] = [0];
  /** Per generation, its wide ids (rare: created on first use). */
  readonly #wide: (Set<string> | null)[] = [null];
  readonly #minSlots: number;
  readonly #minRing: number;
  // biome-ignore lint/correctness/noUnusedPrivateClassMembers: only written, so that the compiler keeps prefetch's reads (their result is otherwise unused)
  #prefetched = 0;

  /**
   * `initialSlots` (a power of two) and `ringBytes` are also the floors the table and the ring
   * never shrink below. Pages of the ring that no id has reached yet are not resident.
   */
  constructor(initialSlots = 1 << 12, ringBytes = initialSlots * 8) {
    this.#minSlots = initialSlots;
    this.#slots = new Int32Array(initialSlots * 2);
    this.#mask = initialSlots - 1;
    this.#ring = new Uint8Array(ringBytes);
    this.#minRing = ringBytes;
  }

  /**
   * A set sized for about `ids` ids: a table that holds them without growing (so the run needs
   * no rehash and its footprint is there from the start), a ring of `bytesPerId` each.
   */
  static sizedFor(ids: number, bytesPerId: number): TradeIdSet {
    const n = Math.min(Math.max(0, Math.ceil(ids)), MAX_RESERVED_IDS);
    let slots = 1 << 12;
    while (!holds(slots, n)) slots *= 2;
    return new TradeIdSet(slots, Math.max(slots * 8, n * bytesPerId));
  }

  get size(): number {
    let wide = 0;
    for (const s of this.#wide) wide += s?.size ?? 0;
    return this.#count + wide;
  }

  /** Generations held, the current one included. */
  get generations(): number {
    return this.#generations.length;
  }

  /** Bytes held (the table and the ring, as allocated). */
  get bytes(): number {
    return this.#slots.byteLength + this.#ring.byteLength;
  }

  /**
   * Reads the slot where each of the first `n` hashes starts its probe, for ids about to be
   * added. The reads are independent of one another, so the processor keeps many of their cache
   * misses in flight at once; the adds then find their slots cached instead of waiting for
   * memory one after the other (≈ 100–200 ns each once the table outgrows the caches).
   */
  prefetch(hashes: Int32Array, n: number): void {
    const slots = this.#slots;
    const mask = this.#mask;
    let seen = 0;
    for (let i = 0; i < n; i++) seen ^= slots[2 * (hashes[i]! & mask) + 1]!;
    this.#prefetched = seen;
  }

  /** `h` is hashTradeId(id). */
  has(id: string, h = hashTradeId(id)): boolean {
    if (h === WIDE) return this.#wide.some((s) => s?.has(id) === true);
    return this.#find(id, h) < 0;
  }

  /** Adds the id to the current generation; false if it was already held (in any generation). */
  add(id: string, h = hashTradeId(id)): boolean {
    if (h === WIDE) {
      if (this.has(id, h)) return false;
      const last = this.#wide.length - 1;
      this.#wide[last] ??= new Set();
      this.#wide[last].add(id);
      return true;
    }
    let slot = this.#find(id, h);
    if (slot < 0) return false;
    if (!holds(this.#mask + 1, this.#count + 1)) {
      this.#resizeTable((this.#mask + 1) * 2);
      slot = this.#find(id, h);
    }
    const at = this.#append(id);
    this.#slots[2 * slot] = h;
    this.#slots[2 * slot + 1] = at + 1;
    this.#count++;
    this.#generations[this.#generations.length - 1]!++;
    return true;
  }

  /** Ids added from now on belong to a new generation. */
  startGeneration(): void {
    this.#generations.push(0);
    this.#wide.push(null);
  }

  /** Forgets the ids of the oldest generation (the current one stays, emptied, if it is the only one). */
  dropOldest(): void {
    const n = this.#generations.length > 1 ? this.#generations.shift()! : this.#generations.splice(0, 1, 0)[0]!;
    if (this.#wide.length > 1) this.#wide.shift();
    else this.#wide[0] = null;
    for (let i = 0; i < n; i++) this.#removeTail();
    if (this.#count === 0) {
      this.#head = 0;
      this.#tail = 0;
      this.#wrapAt = -1;
    }
    // Give memory back after a burst; an eighth full leaves room to grow again before the next halving.
    const size = this.#mask + 1;
    if (size > this.#minSlots && this.#count * 8 < size) this.#resizeTable(Math.max(this.#minSlots, size / 2));
    const minRing = this.#minRing;
    if (this.#ring.length > minRing && this.#used() * 4 < this.#ring.length) this.#resizeRing(Math.max(minRing, Math.ceil((this.#used() * 3) / 2)));
  }

  /** The slot holding `id` as -1, or the empty slot where it would go (≥ 0). */
  #find(id: string, h: number): number {
    const slots = this.#slots;
    const mask = this.#mask;
    let i = h & mask;
    for (;;) {
      const ref = slots[2 * i + 1]!;
      if (ref === 0) return i;
      if (slots[2 * i] === h && this.#equals(ref - 1, id)) return -1;
      i = (i + 1) & mask;
    }
  }

  #equals(at: number, id: string): boolean {
    const r = this.#ring;
    const n = id.length;
    if (r[at] !== n) return false;
    for (let k = 0; k < n; k++) if (r[at + 1 + k] !== id.charCodeAt(k)) return false;
    return true;
  }

  /** Writes the id at the ring's head (growing the ring if it is full); its offset. */
  #append(id: string): number {
    const need = id.length + 1;
    if (!this.#fits(need)) {
      this.#resizeRing(Math.max(64, Math.ceil(((this.#used() + need) * 3) / 2)));
    }
    if (this.#wrapAt < 0 && this.#head + need > this.#ring.length) {
      this.#wrapAt = this.#head;
      this.#head = 0;
    }
    const r = this.#ring;
    const at = this.#head;
    r[at] = id.length;
    for (let k = 0; k < id.length; k++) r[at + 1 + k] = id.charCodeAt(k);
    this.#head = at + need;
    return at;
  }

  /** Whether `need` bytes can be written at the head or, by wrapping, at the ring's start. */
  #fits(need: number): boolean {
    if (this.#wrapAt >= 0) return this.#head + need <= this.#tail;
    return this.#head + need <= this.#ring.length || need <= this.#tail;
  }

  #used(): number {
    return this.#wrapAt >= 0 ? this.#wrapAt - this.#tail + this.#head : this.#head - this.#tail;
  }

  /** Removes the oldest ring entry from the table and the ring. */
  #removeTail(): void {
    const r = this.#ring;
    const at = this.#tail;
    const n = r[at]!;
    // hashTradeId of the id, from its bytes.
    let h = FNV_BASIS;
    for (let k = 0; k < n; k++) h = Math.imul(h ^ r[at + 1 + k]!, FNV_PRIME);
    h = finish(h);
    const slots = this.#slots;
    const mask = this.#mask;
    let i = h & mask;
    for (let ref = slots[2 * i + 1]; ref !== at + 1; ref = slots[2 * i + 1]) {
      // Only a bug can get here; failing beats probing forever.
      if (ref === 0) throw new Error(`trade id ring out of step with its table at ${at}`);
      i = (i + 1) & mask;
    }
    // Backward-shift deletion: pull later entries of the probe run into the hole when their home
    // slot does not lie (cyclically) between the hole and where they are.
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const ref = slots[2 * j + 1]!;
      if (ref === 0) break;
      const home = slots[2 * j]! & mask;
      if (i <= j ? home > i && home <= j : home > i || home <= j) continue;
      slots[2 * i] = slots[2 * j]!;
      slots[2 * i + 1] = ref;
      i = j;
    }
    slots[2 * i] = 0;
    slots[2 * i + 1] = 0;
    this.#count--;
    this.#tail = at + 1 + n;
    if (this.#tail === this.#wrapAt) {
      this.#tail = 0;
      this.#wrapAt = -1;
    }
  }

  #resizeTable(size: number): void {
    const old = this.#slots;
    const slots = new Int32Array(size * 2);
    const mask = size - 1;
    for (let j = 0; j < old.length; j += 2) {
      const ref = old[j + 1]!;
      if (ref === 0) continue;
      const h = old[j]!;
      let i = h & mask;
      while (slots[2 * i + 1] !== 0) i = (i + 1) & mask;
      slots[2 * i] = h;
      slots[2 * i + 1] = ref;
    }
    this.#slots = slots;
    this.#mask = mask;
  }

  /** Copies the entries, in order, to the start of a ring of `capacity` bytes and updates the table's offsets. */
  #resizeRing(capacity: number): void {
    const old = this.#ring;
    const ring = new Uint8Array(capacity);
    const tail = this.#tail;
    if (tail === 0 && this.#wrapAt < 0) {
      // Nothing dropped yet (the window is still filling): the entries keep their offsets, so the
      // table needs no pass.
      ring.set(old.subarray(0, this.#head));
      this.#ring = ring;
      return;
    }
    const firstPart = this.#wrapAt >= 0 ? this.#wrapAt - tail : this.#head - tail;
    ring.set(old.subarray(tail, tail + firstPart));
    if (this.#wrapAt >= 0) ring.set(old.subarray(0, this.#head), firstPart);
    const slots = this.#slots;
    for (let j = 1; j < slots.length; j += 2) {
      const ref = slots[j]!;
      if (ref === 0) continue;
      const at = ref - 1;
      slots[j] = (at >= tail ? at - tail : at + firstPart) + 1;
    }
    this.#head = this.#used();
    this.#tail = 0;
    this.#wrapAt = -1;
    this.#ring = ring;
  }
}

/** A larger estimate is not reserved (the set still grows to what arrives): 32 MB of table and 48 of ring at most. */
const MAX_RESERVED_IDS = 3 << 20;

/** The table stays at most ¾ full: the growth rule and the up-front reservation share it. */
function holds(slots: number, ids: number): boolean {
  return ids * 4 <= slots * 3;
}

/** FNV-1a from a random basis, so ids crafted to collide cannot be chosen in advance. */
const FNV_BASIS = randomBytes(4).readInt32LE(0) ^ 0x811c9dc5;
const FNV_PRIME = 0x01000193;
/** Not a hash: the id has a character beyond one byte, or is too long for a length byte. */
const WIDE = 0x7fffffff;

/** FNV-1a over the characters from a random basis, then a murmur3 finaliser so the low bits (the slot) mix well. */
export function hashTradeId(id: string): number {
  const n = id.length;
  if (n > 255) return WIDE;
  let h = FNV_BASIS;
  for (let k = 0; k < n; k++) {
    const c = id.charCodeAt(k);
    if (c > 0xff) return WIDE;
    h = Math.imul(h ^ c, FNV_PRIME);
  }
  return finish(h);
}

function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  // A real hash equal to the marker is moved one over (only costs an extra comparison).
  return h === WIDE ? WIDE - 1 : h;
}
