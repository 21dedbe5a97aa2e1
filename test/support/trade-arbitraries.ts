import fc from 'fast-check';

/**
 * A record with 1..maxEdits byte edits: a byte replaced, a run of up to 7 bytes cut out, a byte
 * inserted. Near-valid input is where parsers differ; every parser test fuzzes with the same one.
 */
export function editedRecord(base: Buffer, maxEdits: number): fc.Arbitrary<Buffer> {
  const edit = fc.oneof(
    fc.tuple(fc.constant('flip' as const), fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })),
    fc.tuple(fc.constant('cut' as const), fc.nat(base.length - 1), fc.nat(base.length)),
    fc.tuple(fc.constant('insert' as const), fc.nat(base.length), fc.integer({ min: 0, max: 255 })),
  );
  return fc.array(edit, { minLength: 1, maxLength: maxEdits }).map((edits) => {
    let b = Buffer.from(base);
    for (const [kind, at, x] of edits) {
      const i = Math.min(at, b.length);
      if (kind === 'flip' && b.length > 0) b[Math.min(i, b.length - 1)] = x;
      else if (kind === 'cut') b = Buffer.concat([b.subarray(0, i), b.subarray(Math.min(b.length, i + (x % 8)))]);
      else if (kind === 'insert') b = Buffer.concat([b.subarray(0, i), Buffer.from([x]), b.subarray(i)]);
    }
    return b;
  });
}
