/**
 * The `tickflow` CLI as a user runs it, in a child process of this Node (24, type stripping):
 * `tickflow()` for a command that ends, `TickflowProcess` for one that runs until stopped.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.ts';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Entry point of the CLI; TICKFLOW_TEST_CLI_ENTRY overrides it (e.g. a dev harness). */
export const cliEntry = process.env.TICKFLOW_TEST_CLI_ENTRY || `${repoRoot}bin/tickflow.js`;

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * Runs `tickflow <args>` to its end with `input` on stdin (empty by default) and returns what it
 * printed; never throws on an exit code. Killed after `timeoutMs` (the result then says SIGKILL).
 */
export function tickflow(args: string[], o: CliOptions & { input?: string | Uint8Array; timeoutMs?: number } = {}): Promise<CliResult> {
  const p = new TickflowProcess(args, o);
  p.child.stdin.end(o.input ?? '');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), o.timeoutMs ?? 600_000);
  return p.done.finally(() => clearTimeout(timer));
}

/** A long-running `tickflow` child (serve, a Kafka consumer, or run fed through stdin). */
export class TickflowProcess {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = '';
  stderr = '';
  readonly done: Promise<CliResult>;

  constructor(args: string[], o: CliOptions = {}) {
    this.child = spawn(process.execPath, [cliEntry, ...args], { cwd: o.cwd ?? repoRoot, env: { ...process.env, ...o.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    // A child that exits while being fed must fail the test by its exit, not crash the runner.
    this.child.stdin.on('error', () => {});
    this.done = new Promise((resolve, reject) => {
      this.child.on('error', reject);
      this.child.on('close', (code, signal) => resolve({ code, signal, stdout: this.stdout, stderr: this.stderr }));
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * The dashboard's base URL (no trailing slash), from the "dashboard on http://…/" line: start
   * it with `--port 0` and the OS picks a free port in the process that binds it.
   */
  dashboardUrl(timeoutMs = 90_000): Promise<string> {
    return waitFor(
      () => {
        const m = /dashboard on (http:\/\/[^\s/]+)\//.exec(this.stderr);
        if (m) return m[1]!;
        if (!this.running) throw new Error(`tickflow exited (${this.child.exitCode ?? this.child.signalCode}) before serving: ${this.stderr}`);
        return null;
      },
      { what: 'the dashboard address on stderr', timeoutMs, context: () => this.stderr },
    );
  }

  write(lines: string[]): void {
    if (lines.length > 0) this.child.stdin.write(`${lines.join('\n')}\n`);
  }

  /** Ends stdin and sends `signal` (SIGINT: Ctrl-C); SIGKILL if it is still running 30 s later. */
  async stop(signal: NodeJS.Signals = 'SIGINT'): Promise<CliResult> {
    if (this.running) {
      this.child.stdin.end();
      this.child.kill(signal);
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    try {
      return await this.done;
    } finally {
      clearTimeout(timer);
    }
  }
}
