/**
 * What every `tusk` command shares: the output contract (one result on stdout — a JSON object
 * under --json — progress on stderr only for terminals), usage errors (exit code 2) and the
 * argument checks that raise them, and the wording of file errors.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { blobIdFromString, type BlobId } from '../codec/blob-id.ts';
import { TuskError } from '../errors.ts';

/**
 * The command line itself is wrong (a missing, malformed or out-of-range argument, an unknown
 * option): main.ts prints the one-line reason and a pointer to `--help`, and exits 2. Raised before
 * any work or payment, so nothing needs undoing.
 */
export class UsageError extends TuskError {}

/** Options every command accepts. */
const HELP = { help: { type: 'boolean', short: 'h', default: false } } as const;

/**
 * Parses `args` for `command`, accepting exactly `options` (plus -h/--help): an option of another
 * command is an error, not silently ignored. @throws UsageError
 */
export function parseCommand<O extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  args: string[],
  options: O,
  allowPositionals = true,
) {
  try {
    return parseArgsKeepingIds({ args, allowPositionals, strict: true, options: { ...options, ...HELP } });
  } catch (e) {
    const code = (e as { code?: string }).code ?? '';
    if (!code.startsWith('ERR_PARSE_ARGS')) throw e;
    const msg = (e as Error).message;
    const unknown = /Unknown option '([^']+)'/.exec(msg);
    if (unknown) throw new UsageError(`${command}: unknown option ${unknown[1]}`);
    const positional = /Unexpected argument '([^']+)'/.exec(msg);
    if (positional) throw new UsageError(`${command} takes no argument ${JSON.stringify(positional[1])}`);
    const needsValue = /Option '(?:-\w, )?(--[\w-]+) <value>' argument missing/.exec(msg);
    if (needsValue) throw new UsageError(`${command}: ${needsValue[1]} needs a value`);
    throw new UsageError(`${command}: ${msg.split('\n')[0]}`);
  }
}

/**
 * A blob ID or quilt patch ID that starts with '-'. They are URL-safe base64, so one ID in 64 starts
 * with '-' (CI met a manifest `-J…`), and parseArgs would take it for an option: "unknown option
 * -J". No option name is 40 characters long, so a token of at least 40 base64url characters is
 * an ID, even after `-` or `--`.
 */
const DASH_ID = /^-[A-Za-z0-9_-]{39,}$/;
/** Stands in for an ID's leading '-' while parseArgs runs; no command line can contain it. */
const SHIELD = '\u0000';

/**
 * Replaces the leading '-' of every ID-shaped token (see DASH_ID) so that option parsers see a
 * positional or an option's value. Pre: none. Post: a new array; `args` is unchanged.
 */
export function shieldDashIds(args: readonly string[]): string[] {
  return args.map((a) => (DASH_ID.test(a) ? SHIELD + a.slice(1) : a));
}

/** Undoes shieldDashIds on one parsed value (a string, a list of strings, or anything else). */
function unshield<V>(v: V): V {
  if (typeof v === 'string') return (v.startsWith(SHIELD) ? '-' + v.slice(1) : v) as V;
  if (Array.isArray(v)) return v.map(unshield) as V;
  return v;
}

/**
 * node:util parseArgs, except that blob IDs and patch IDs starting with '-' parse as positionals
 * or option values, wherever they stand. `config.args` must be given. @throws as parseArgs
 */
export function parseArgsKeepingIds<T extends ParseArgsConfig & { args: string[] }>(config: T): ReturnType<typeof parseArgs<T>> {
  const parsed = parseArgs({ ...config, args: shieldDashIds(config.args) });
  const values = parsed.values as Record<string, unknown>;
  for (const k of Object.keys(values)) values[k] = unshield(values[k]);
  if (parsed.positionals) parsed.positionals = unshield(parsed.positionals);
  return parsed as ReturnType<typeof parseArgs<T>>;
}

/** A blob ID argument (URL-safe base64, 43 characters). @throws UsageError */
export function parseBlobIdArg(text: string): BlobId {
  try {
    return blobIdFromString(text);
  } catch {
    throw new UsageError(`malformed blob ID ${JSON.stringify(text)} (expected 43 characters of URL-safe base64, as printed by tusk store)`);
  }
}

/** An object ID or address argument (0x + 64 hex digits), normalized to lower case. @throws UsageError */
export function parseObjectIdArg(text: string | undefined, option: string): string {
  if (text === undefined) throw new UsageError(`${option} is required`);
  if (!/^0x[0-9a-fA-F]{64}$/.test(text))
    throw new UsageError(`malformed ${option} ${JSON.stringify(text)} (expected 0x and 64 hex digits)`);
  return text.toLowerCase();
}

/** Descriptions of the file-system errors a user meets, in one wording everywhere. */
const FS_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  EEXIST: 'already exists',
  ENOSPC: 'no space left on device',
  EROFS: 'read-only file system',
  ENOTEMPTY: 'directory not empty',
  EMFILE: 'too many open files',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  EPIPE: 'broken pipe',
  EXDEV: 'cross-device link',
  EBUSY: 'resource busy',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
};

/**
 * One line for a Node file-system error: `<path>: <what>` (e.g. `/x/f.bin: no such file or
 * directory`), the wording of every file error the CLI prints; null if `e` is not one.
 */
export function describeFileError(e: unknown): string | null {
  const err = e as NodeJS.ErrnoException;
  if (typeof err?.code !== 'string' || !/^E[A-Z]+$/.test(err.code)) return null;
  const what = FS_ERRORS[err.code] ?? err.message.replace(/^E[A-Z]+: /, '').replace(/, \w+ '.*'$/, '');
  return err.path ? `${err.path}: ${what}${(err as { dest?: string }).dest ? ` (→ ${(err as { dest?: string }).dest})` : ''}` : what;
}

/** Prints the result: `value` as one JSON line under --json, else `text`. */
export function print(json: boolean, value: unknown, text: string): void {
  process.stdout.write((json ? JSON.stringify(value) : text) + '\n');
}

/** The single positional argument of `command`. @throws the usage error built by `usageError`. */
export function onePositional(
  positionals: string[],
  what: string,
  command: string,
  usageError: (m: string) => Error = (m) => new UsageError(m),
): string {
  if (positionals.length !== 1)
    throw usageError(`${command} takes exactly one ${what}${positionals.length ? `, got ${positionals.length}` : ''}`);
  return positionals[0];
}

/** An optional integer option in `min…max`. @throws UsageError naming the option and the range. */
export function intOption(raw: string | undefined, name: string, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max)
    throw new UsageError(`--${name} must be an integer in ${min}…${max}, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** `[#####.....]  42%` for `done` of `total`. */
export function bar(done: number, total: number): string {
  const frac = total > 0 ? Math.min(1, done / total) : 1;
  const width = 30,
    fill = Math.round(frac * width);
  return `[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${Math.floor(frac * 100)
    .toString()
    .padStart(3)}%`;
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
