/**
 * What every `tusk` command shares: the output contract (one result on stdout — a JSON object
 * under --json — progress on stderr only for terminals), and small argument checks.
 */
import { TuskInputError } from '../errors.ts';

/** Prints the result: `value` as one JSON line under --json, else `text`. */
export function print(json: boolean, value: unknown, text: string): void {
  process.stdout.write((json ? JSON.stringify(value) : text) + '\n');
}

/** The single positional argument of `command`. @throws the usage error built by `usageError`. */
export function onePositional(positionals: string[], what: string, command: string, usageError: (m: string) => Error): string {
  if (positionals.length !== 1) throw usageError(`${command} takes exactly one ${what}`);
  return positionals[0];
}

/** An optional integer option in `min…max`. @throws TuskInputError naming the option. */
export function intOption(raw: string | undefined, name: string, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new TuskInputError(`--${name} must be an integer in ${min}…${max}, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** `[#####.....]  42%` for `done` of `total`. */
export function bar(done: number, total: number): string {
  const frac = total > 0 ? Math.min(1, done / total) : 1;
  const width = 30, fill = Math.round(frac * width);
  return `[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${Math.floor(frac * 100).toString().padStart(3)}%`;
}

/** A one-line progress display on stderr, drawn only when it is a terminal and `enabled`. */
export interface ProgressLine {
  /** Redraws the line with `text` (at most every 100 ms unless `force`). */
  show(text: string, force?: boolean): void;
  /** `label` and a bar; always drawn when done. */
  update(label: string, done: number, total: number): void;
  clear(): void;
}

/** A progress line (quiet under --json or when stderr is piped). */
export function progressLine(enabled: boolean): ProgressLine {
  const on = enabled && process.stderr.isTTY === true;
  let last = 0;
  const line: ProgressLine = {
    show(text, force = false) {
      const now = Date.now();
      if (!on || (!force && now - last < 100)) return;
      last = now;
      process.stderr.write(`\r\x1b[K${text}`);
    },
    update(label, done, total) {
      line.show(`${label.padEnd(16)} ${bar(done, total)}`, done >= total);
    },
    clear() {
      if (on) process.stderr.write('\r\x1b[K');
    },
  };
  return line;
}

/** Runs `work` with a progress line that is cleared however it ends. */
export async function withProgress<T>(enabled: boolean, work: (line: ProgressLine) => Promise<T>): Promise<T> {
  const line = progressLine(enabled);
  try {
    return await work(line);
  } finally {
    line.clear();
  }
}

/**
 * One timestamped line on stderr for the long-running processes (`chain serve`, `node run`), whose
 * stderr is their log file under `tusk dev` (<data-dir>/logs/<name>.log). Written whatever
 * `--json` says: stderr never carries the result.
 */
export function logLine(component: string, line: string): void {
  process.stderr.write(`${new Date().toISOString()} ${component}: ${line}\n`);
}
