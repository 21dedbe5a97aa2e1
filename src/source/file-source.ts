import { accessSync, constants, createReadStream, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { RawRecord } from '../engine/records.ts';
import type { Source } from './source.ts';

/**
 * The longest line kept whole: the largest record a spec may allow (input.maxRecordBytes), so
 * whatever a spec accepts arrives intact. Anything longer is a dead letter whatever the spec.
 */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

/**
 * Why a path cannot be read as input, or null when it can: checked before anything starts, so
 * a typo is one line and exit code 2 rather than a failure after the database is open.
 */
export function unreadableInput(path: string): string | null {
  if (path === '-') return null;
  try {
    if (statSync(path).isDirectory()) return `${path} is a directory`;
    accessSync(path, constants.R_OK);
    return null;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `${path}: no such file`;
    if (code === 'EACCES') return `${path}: permission denied`;
    return `${path}: ${code ?? (e as Error).message}`;
  }
}

export interface FileSourceOptions {
  /** Bytes of one line kept in memory; a longer line is handed over cut to this + 1 bytes. */
  maxLineBytes?: number;
}

/**
 * JSONL from a file or stdin ("-"). Lines are split on raw bytes so invalid UTF-8 reaches the
 * parser as it is (and becomes a dead letter) instead of being papered over with U+FFFD.
 * The offset of a record is its 1-based line number; blank lines are not records.
 *
 * Memory is bounded by the line cap, not by the input: a line without an end (a binary file, a
 * runaway writer) is kept up to `maxLineBytes` + 1 bytes — enough for the parser to refuse it
 * as too large — and the rest of it is skipped up to its newline.
 */
export class FileSource implements Source {
  readonly path: string;
  readonly description: string;
  readonly #name: string;
  readonly #maxLineBytes: number;

  constructor(path: string, options: FileSourceOptions = {}) {
    this.path = path;
    this.#name = path === '-' ? 'stdin' : path;
    this.description = path === '-' ? 'stdin' : `file ${path}`;
    this.#maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
  }

  async *batches(signal: AbortSignal): AsyncIterable<RawRecord[]> {
    const stream: Readable = this.path === '-' ? process.stdin : createReadStream(this.path, { highWaterMark: 1 << 20 });
    const keep = this.#maxLineBytes + 1;
    // The unfinished line: its pieces are joined once, at its newline (joining at every chunk
    // would copy a long line over and over).
    let parts: Buffer[] = [];
    let kept = 0;
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
    const hold = (piece: Buffer): void => {
      if (kept >= keep || piece.length === 0) return;
      const room = keep - kept;
      // A copy: the piece may be a view of a chunk that is otherwise done with.
      const owned = Buffer.from(piece.length > room ? piece.subarray(0, room) : piece);
      parts.push(owned);
      kept += owned.length;
    };
    const finishLine = (tail: Buffer): void => {
      if (parts.length === 0) {
        push(tail.length > keep ? tail.subarray(0, keep) : tail);
        return;
      }
      hold(tail);
      push(parts.length === 1 ? parts[0]! : Buffer.concat(parts, kept));
      parts = [];
      kept = 0;
    };
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (signal.aborted) break;
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(10, start);
        if (nl < 0) break;
        finishLine(chunk.subarray(start, nl));
        start = nl + 1;
      }
      if (start < chunk.length) hold(chunk.subarray(start));
      // Hand over what each chunk completed: a file chunk holds thousands of lines, and a
      // line typed on stdin must not wait for more input to follow it.
      if (batch.length > 0) {
        yield batch;
        batch = [];
      }
    }
    if (parts.length > 0 && !signal.aborted) finishLine(Buffer.alloc(0));
    if (batch.length > 0) yield batch;
    if (this.path !== '-') stream.destroy();
  }
}
