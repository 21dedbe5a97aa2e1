/**
 * The Flink function's parser (stack/udf, dev.tickflow.udf.ParseHarness) over many records in
 * one JVM: records go to stdin framed as a 4-byte big-endian length and the bytes, one JSON
 * object per record comes back. The conformance test compares these with src/trade/parse.ts.
 */
import { spawn } from 'node:child_process';
import { findJava } from '../../src/stack/java.ts';

/** What the harness prints for one record; the TypeScript side is put in the same shape. */
export type ParserOutcome = {
  code: string | null;
  reason: string | null;
  trade_id: string | null;
  ticker: string | null;
  /** NUMERIC(10,4) text, e.g. "187.2300". */
  price: string | null;
  volume: number | null;
  ts_ms: number | null;
};

function frame(records: readonly Uint8Array[]): Buffer {
  let size = 0;
  for (const r of records) size += 4 + r.length;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const r of records) {
    out.writeUInt32BE(r.length, at);
    out.set(r, at + 4);
    at += 4 + r.length;
  }
  return out;
}

/** Runs the harness of `jar` over `records` with one maxBytes; results in input order. */
export async function runJavaParser(jar: string, records: readonly Uint8Array[], maxBytes: number): Promise<ParserOutcome[]> {
  const java = await findJava();
  // A small stack: a parser that recursed per nesting level would fail the deep records here.
  const child = spawn(java.command, ['-Xss256k', '-XX:+UseSerialGC', '-cp', jar, 'dev.tickflow.udf.ParseHarness', String(maxBytes)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => stdout.push(c));
  child.stderr.on('data', (c: Buffer) => stderr.push(c));
  // A JVM that dies early closes its stdin: the exit code tells the story, not EPIPE.
  child.stdin.on('error', () => {});
  child.stdin.end(frame(records));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) {
    throw new Error(`ParseHarness exited with ${code}: ${Buffer.concat(stderr).toString('utf8').slice(0, 2000)}`);
  }
  const lines = Buffer.concat(stdout).toString('utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length !== records.length) {
    throw new Error(`ParseHarness answered ${lines.length} of ${records.length} records: ${Buffer.concat(stderr).toString('utf8').slice(0, 2000)}`);
  }
  return lines.map((l) => JSON.parse(l) as ParserOutcome);
}
