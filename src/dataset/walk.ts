/**
 * Walking a directory to publish, and hashing its files. The walk refuses what a manifest could
 * not represent faithfully or what would leak files from elsewhere: a symbolic link whose target
 * is outside the directory, a name that is not valid UTF-8, anything that is neither a regular
 * file nor a directory (sockets, FIFOs, devices), and files that cannot be read — each a clear
 * `TuskInputError` naming the path, raised before anything is encoded or paid.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, constants, lstat, readdir, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { TuskInputError } from '../errors.ts';
import { checkDatasetPath, compareUtf8Paths } from './manifest.ts';

/** One regular file found by `walkDataset`. */
export interface DatasetFileInfo {
  /** Relative dataset path (`/`-separated). */
  readonly path: string;
  /** Absolute path to read (a symbolic link inside the directory is resolved). */
  readonly abs: string;
  readonly size: number;
  /** Modification time in ms (for the journal's quick change check). */
  readonly mtimeMs: number;
}

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Every regular file under `root`, sorted by dataset path (UTF-8 byte order). Symbolic links that
 * stay inside `root` are followed (their target's bytes, under the link's path).
 * @throws TuskInputError for a link leaving `root`, a non-UTF-8 name, a special file, an
 *   unreadable file or directory.
 */
export async function walkDataset(root: string): Promise<DatasetFileInfo[]> {
  const rootReal = await realpath(root).catch((e: NodeJS.ErrnoException) => {
    throw new TuskInputError(`${root}: ${e.code === 'ENOENT' ? 'no such directory' : e.message}`);
  });
  if (!(await stat(rootReal)).isDirectory()) throw new TuskInputError(`${root}: not a directory`);
  const out: DatasetFileInfo[] = [];
  const visiting = new Set<string>();
  const visit = async (dirAbs: string, rel: string): Promise<void> => {
    const real = await realpath(dirAbs);
    if (visiting.has(real)) throw new TuskInputError(`${dirAbs}: a symbolic link loops back to a parent directory`);
    visiting.add(real);
    let names: Buffer[];
    try {
      names = await readdir(dirAbs, { encoding: 'buffer' });
    } catch (e) {
      throw new TuskInputError(`${dirAbs}: cannot list the directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    for (const raw of names) {
      let name: string;
      try {
        name = fatalUtf8.decode(raw);
      } catch {
        throw new TuskInputError(
          `${join(dirAbs, raw.toString('latin1'))}: the file name is not valid UTF-8 (bytes ${raw.toString('hex')}); rename it to publish this directory`,
        );
      }
      const abs = join(dirAbs, name);
      const path = rel === '' ? name : `${rel}/${name}`;
      try {
        checkDatasetPath(path);
      } catch (e) {
        throw new TuskInputError(`${abs}: cannot be a dataset path: ${(e as Error).message}`);
      }
      let st = await lstat(abs);
      let target = abs;
      if (st.isSymbolicLink()) {
        target = await realpath(abs).catch(() => {
          throw new TuskInputError(`${abs}: a broken symbolic link`);
        });
        const r = relative(rootReal, target);
        if (r === '..' || r.startsWith(`..${sep}`) || isAbsolute(r))
          throw new TuskInputError(`${abs}: a symbolic link to ${target}, outside the directory being published`);
        st = await stat(target);
      }
      if (st.isDirectory()) await visit(target, path);
      else if (st.isFile()) {
        try {
          await access(target, constants.R_OK);
        } catch {
          throw new TuskInputError(`${abs}: permission denied (cannot read the file)`);
        }
        out.push({ path, abs: target, size: st.size, mtimeMs: st.mtimeMs });
      } else throw new TuskInputError(`${abs}: not a regular file or directory (sockets, FIFOs and devices cannot be published)`);
    }
    visiting.delete(real);
  };
  await visit(rootReal, '');
  return out.sort((a, b) => compareUtf8Paths(a.path, b.path));
}

/**
 * SHA-256 (lowercase hex) of bytes `start…end-1` of a file (default the whole file), read in a
 * stream (bounded memory).
 * @throws TuskInputError when the file cannot be read.
 */
export async function sha256File(abs: string, signal?: AbortSignal, start = 0, end?: number): Promise<string> {
  const h = createHash('sha256');
  try {
    if (end === undefined || end > start)
      for await (const chunk of createReadStream(abs, {
        start,
        end: end === undefined ? undefined : end - 1,
        signal,
        highWaterMark: 1 << 20,
      }))
        h.update(chunk as Buffer);
  } catch (e) {
    signal?.throwIfAborted();
    throw new TuskInputError(`${abs}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return h.digest('hex');
}
