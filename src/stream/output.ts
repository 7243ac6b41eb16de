/**
 * Where a decoded blob goes: the output target of `decodeDirectory`, `readBlobToFile`, and the
 * `--out` of `tusk read` / `tusk decode`.
 *
 * The decoder writes the blob with positional writes into a *partial* regular file and only hands
 * it over once every byte is verified. How it is handed over depends on what `out` names:
 *
 *  - a regular file, or nothing yet: the partial file is a hidden sibling renamed over `out`
 *    (atomic: `out` holds the old content or the whole new blob, never a mix). An existing file is
 *    replaced only with `overwrite`.
 *  - `-`, `/dev/stdout`, `/dev/stderr`, `/dev/fd/N`, `/proc/self/fd/N`: the process's own file
 *    descriptor, written in place (so `>> log` appends and a pipe is streamed into).
 *  - anything else — a character or block device, a FIFO, a socket, a symbolic link — is written
 *    in place, opened as it is: a rename would replace the node or the link itself with a regular
 *    file (as root, `--out /dev/null` would replace /dev/null). A symbolic link to an existing
 *    regular file is written through (truncated) only with `overwrite`. The partial file then lives
 *    in the temporary directory, and its bytes are copied sequentially once verified (FIFOs, pipes
 *    and terminals cannot take positional writes).
 */
import { constants, createReadStream, createWriteStream } from 'node:fs';
import { access, lstat, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { TuskInputError } from '../errors.ts';
import { makeTempDir } from './temp-dirs.ts';

/** Options of {@link prepareOutput}. */
export interface OutputOptions {
  /** Replace an existing regular file (directly or through a symbolic link). */
  readonly overwrite?: boolean;
  /** Where the partial file of an in-place target goes (default: the OS temporary directory). */
  readonly tempDir?: string;
}

/** How an output is written (see the module comment). */
export type OutputKind = 'file' | 'fd' | 'in-place';

/**
 * A prepared output: write the blob to `partialPath`, then `commit()`; `discard()` after a failed
 * attempt (the target stays usable for another), `release()` when done with it either way.
 */
export interface OutputTarget {
  readonly kind: OutputKind;
  /** What the user named (for messages). */
  readonly out: string;
  /** A regular file the decoder may write with positional writes. */
  readonly partialPath: string;
  /** Hands the verified partial file over to the target; removes the partial file. */
  commit(): Promise<void>;
  /** Removes the partial file (idempotent); the target is untouched. */
  discard(): Promise<void>;
  /** Removes every temporary file of this target (idempotent). */
  release(): Promise<void>;
}

/** The file descriptor `out` names (`-`, /dev/stdout, /dev/fd/N …), or null. */
export function outputDescriptor(out: string): number | null {
  if (out === '-' || out === '/dev/stdout') return 1;
  if (out === '/dev/stderr') return 2;
  const m = /^\/(?:dev\/fd|proc\/self\/fd)\/(\d+)$/.exec(out);
  return m ? Number(m[1]) : null;
}

/**
 * Checks `out` and prepares writing to it. Call it before any expensive work: an output that
 * cannot be written (an existing file without `overwrite`, a directory) is refused here.
 * @throws TuskInputError for an existing file without `overwrite` or a directory.
 */
export async function prepareOutput(out: string, options: OutputOptions = {}): Promise<OutputTarget> {
  const fd = outputDescriptor(out);
  if (fd !== null) return inPlace(out, options, () => fdStream(fd), 'fd');
  // ENOTDIR: a parent is a file; reported below as a directory that does not exist.
  const link = await lstat(out).catch((e) => (e.code === 'ENOENT' || e.code === 'ENOTDIR' ? null : Promise.reject(e)));
  if (link === null || link.isFile()) {
    if (link !== null && !options.overwrite) throw new TuskInputError(`output file ${out} already exists (use --force to replace it)`);
    // Fail now (not after the download) when the partial file cannot be created next to `out`.
    const parent = dirname(resolve(out));
    const parentStat = await stat(parent).catch(() => null);
    if (!parentStat?.isDirectory()) throw new TuskInputError(`cannot write ${out}: directory ${parent} does not exist`);
    await access(parent, constants.W_OK).catch(() => {
      throw new TuskInputError(`cannot write ${out}: directory ${parent} is not writable`);
    });
    const partialPath = join(dirname(out), `.${basename(out)}.tmp-${process.pid}-${Date.now()}`);
    const discard = () => rm(partialPath, { force: true });
    return { kind: 'file', out, partialPath, commit: () => rename(partialPath, out), discard, release: discard };
  }
  if (link.isDirectory()) throw new TuskInputError(`output ${out} is a directory`);
  if (link.isSymbolicLink()) {
    const target = await stat(out).catch((e) => (e.code === 'ENOENT' ? null : Promise.reject(e)));
    if (target?.isDirectory()) throw new TuskInputError(`output ${out} is a link to a directory`);
    if (target?.isFile() && !options.overwrite)
      throw new TuskInputError(`output file ${out} (a link to an existing file) already exists (use --force to write through it)`);
  }
  // A device, FIFO, socket or link: opened as it is when the blob is ready ('w' truncates a
  // regular file behind a link and is a no-op on the others).
  return inPlace(out, options, () => createWriteStream(out, { flags: 'w' }), 'in-place');
}

/** An in-place target: the partial file in a private temporary folder, copied over on commit. */
async function inPlace(out: string, options: OutputOptions, open: () => Writable, kind: OutputKind): Promise<OutputTarget> {
  const dir = await makeTempDir('out', options.tempDir);
  const partialPath = join(dir, 'blob');
  const release = () => rm(dir, { recursive: true, force: true });
  return {
    kind,
    out,
    partialPath,
    async commit() {
      try {
        await pipeline(createReadStream(partialPath, { highWaterMark: 1 << 20 }), open());
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (err.code && !err.path) err.path = out;
        throw e;
      } finally {
        await rm(partialPath, { force: true });
      }
    },
    discard: () => rm(partialPath, { force: true }),
    release,
  };
}

function ignoreError(): void {}

/** Copies the file `path` to the process's file descriptor `fd` (1 = stdout), streamed. */
export async function copyToDescriptor(path: string, fd: number): Promise<void> {
  await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), fdStream(fd));
}

/**
 * A writable on file descriptor `fd` that leaves it open (the process's stdout stays usable).
 * process.stdout is used for fd 1, so output written through it earlier keeps its order.
 */
function fdStream(fd: number): Writable {
  if (fd === 1) {
    const out = process.stdout;
    // Errors of stdout (EPIPE when the reader went away) arrive as 'error' events, possibly after
    // this copy ended: a permanent no-op listener keeps a late one from crashing the process, and
    // one listener per copy fails the copy.
    if (!out.listeners('error').includes(ignoreError)) out.on('error', ignoreError);
    const sink: Writable = new Writable({
      highWaterMark: 1 << 20,
      // Backpressure through write()'s result and 'drain': memory stays at about one chunk.
      write(chunk, _enc, cb) {
        if (out.write(chunk)) return cb();
        out.once('drain', () => cb());
      },
    });
    const fail = (e: Error) => sink.destroy(e);
    out.on('error', fail);
    sink.once('close', () => out.removeListener('error', fail));
    return sink;
  }
  return createWriteStream('', { fd, autoClose: false });
}
