import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { RawRecord } from '../engine/records.ts';
import type { Source } from './source.ts';

/**
 * JSONL from a file or stdin ("-"). Lines are split on raw bytes so invalid UTF-8 reaches the
 * parser as it is (and becomes a dead letter) instead of being papered over with U+FFFD.
 * The offset of a record is its 1-based line number; blank lines are not records.
 */
export class FileSource implements Source {
  readonly path: string;
  readonly description: string;
  readonly #name: string;

  constructor(path: string) {
    this.path = path;
    this.#name = path === '-' ? 'stdin' : path;
    this.description = path === '-' ? 'stdin' : `file ${path}`;
  }

  async *batches(signal: AbortSignal): AsyncIterable<RawRecord[]> {
    const stream: Readable =
      this.path === '-' ? process.stdin : createReadStream(this.path, { highWaterMark: 1 << 20 });
    let carry: Buffer | null = null;
    let line = 0;
    let batch: RawRecord[] = [];
    const source = this.#name;
    const push = (bytes: Uint8Array): void => {
      line++;
      let end = bytes.length;
      if (end > 0 && bytes[end - 1] === 13) end--;
      let blank = true;
      for (let i = 0; i < end; i++) {
        const c = bytes[i]!;
        if (c !== 32 && c !== 9) {
          blank = false;
          break;
        }
      }
      if (blank) return;
      batch.push({ value: bytes.subarray(0, end), source, partition: 0, offset: line });
    };
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (signal.aborted) break;
      const data: Buffer = carry === null ? chunk : Buffer.concat([carry, chunk]);
      let start = 0;
      for (;;) {
        const nl = data.indexOf(10, start);
        if (nl < 0) break;
        push(data.subarray(start, nl));
        start = nl + 1;
      }
      carry = start < data.length ? Buffer.from(data.subarray(start)) : null;
      // Hand over what each chunk completed: a file chunk holds thousands of lines, and a
      // line typed on stdin must not wait for more input to follow it.
      if (batch.length > 0) {
        yield batch;
        batch = [];
      }
    }
    if (carry !== null && !signal.aborted) push(carry);
    if (batch.length > 0) yield batch;
    if (this.path !== '-') stream.destroy();
  }
}
