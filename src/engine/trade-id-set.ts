import { randomBytes } from 'node:crypto';

/**
 * A set of trade ids kept outside the JavaScript object graph: the characters of each id in one
 * byte arena, an open-addressing table of (hash, arena offset) pairs in an Int32Array. The
 * dedupe window holds hundreds of thousands of ids for ten minutes; as a Set<string> each was a
 * string object and a table entry (≈ 80 bytes, all traced by every full GC, and each lookup
 * chased pointers to compare keys). Here an id costs its length + 1 bytes plus 16–32 bytes of
 * table, lookups compare stored hashes before touching any characters, and the GC sees three
 * typed arrays.
 *
 * Ids with a character above U+00FF (rare: the decoder's fast path only yields ASCII) go to an
 * ordinary Set. The hash is seeded per process, so a crafted stream of colliding ids cannot be
 * prepared in advance.
 */
export class TradeIdSet {
  /** Pairs (hash, offset + 1) per slot; offset + 1 = 0 marks an empty slot. */
  #slots: Int32Array;
  #mask: number;
  #arena: Uint8Array;
  #arenaUsed = 0;
  #count = 0;
  readonly #wide = new Set<string>();

  constructor(initialSlots = 1 << 12) {
    this.#slots = new Int32Array(initialSlots * 2);
    this.#mask = initialSlots - 1;
    this.#arena = new Uint8Array(initialSlots * 16);
  }

  get size(): number {
    return this.#count + this.#wide.size;
  }

  /** Bytes held (the tables, as allocated). */
  get bytes(): number {
    return this.#slots.byteLength + this.#arena.byteLength;
  }

  /** `h` is hashTradeId(id), for a caller asking several sets about one id. */
  has(id: string, h = hashTradeId(id)): boolean {
    if (h === WIDE) return this.#wide.has(id);
    return this.#find(id, h) < 0;
  }

  /** Adds the id; false if it was already there. */
  add(id: string, h = hashTradeId(id)): boolean {
    if (h === WIDE) {
      if (this.#wide.has(id)) return false;
      this.#wide.add(id);
      return true;
    }
    const slot = this.#find(id, h);
    if (slot < 0) return false;
    this.#put(slot, h, id);
    return true;
  }

  /** Empties the set and keeps its buffers (the next generation reuses them). */
  clear(): void {
    this.#slots.fill(0);
    this.#arenaUsed = 0;
    this.#count = 0;
    this.#wide.clear();
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
    const a = this.#arena;
    const n = id.length;
    if (a[at] !== n) return false;
    for (let k = 0; k < n; k++) if (a[at + 1 + k] !== id.charCodeAt(k)) return false;
    return true;
  }

  #put(slot: number, h: number, id: string): void {
    const n = id.length;
    if (this.#arenaUsed + n + 1 > this.#arena.length) {
      const bigger = new Uint8Array(Math.max(this.#arena.length * 2, this.#arenaUsed + n + 1));
      bigger.set(this.#arena.subarray(0, this.#arenaUsed));
      this.#arena = bigger;
    }
    const a = this.#arena;
    const at = this.#arenaUsed;
    a[at] = n;
    for (let k = 0; k < n; k++) a[at + 1 + k] = id.charCodeAt(k);
    this.#arenaUsed = at + 1 + n;
    this.#slots[2 * slot] = h;
    this.#slots[2 * slot + 1] = at + 1;
    // Below half full, linear probing stays short.
    if (++this.#count * 2 > this.#mask + 1) this.#grow();
  }

  #grow(): void {
    const old = this.#slots;
    const size = (this.#mask + 1) * 2;
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
}

const SEED = randomBytes(4).readInt32LE(0);
/** Not a hash: the id has a character beyond one byte, or is too long for a length byte. */
const WIDE = 0x7fffffff;

/** FNV-1a over the characters from a random basis, then a murmur3 finaliser so the low bits (the slot) mix well. */
export function hashTradeId(id: string): number {
  const n = id.length;
  if (n > 255) return WIDE;
  let h = SEED ^ 0x811c9dc5;
  for (let k = 0; k < n; k++) {
    const c = id.charCodeAt(k);
    if (c > 0xff) return WIDE;
    h = Math.imul(h ^ c, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  // A real hash equal to the marker is moved one over (only costs an extra comparison).
  return h === WIDE ? WIDE - 1 : h;
}
