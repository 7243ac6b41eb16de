/**
 * Reading a site directory: every file under it (dotfiles included, as the site-builder does),
 * its resource path (`/` + the relative path with `/` separators), `ws-resources.json` read
 * apart and never published, `ignore` globs applied. Symlinks are followed only while they stay
 * inside the directory: a link that leads outside it, and a link cycle, are errors naming the
 * path, never silently skipped or published.
 */
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { TuskInputError } from '../errors.ts';
import { isIgnored, parseWsResources, WS_RESOURCES_FILE, type WsResources } from './ws-resources.ts';

/** One file of a site directory. */
export interface SiteFile {
  /** Resource path, e.g. `/img/logo.png`. */
  readonly path: string;
  /** Absolute file path (symlinks resolved). */
  readonly file: string;
  readonly size: number;
}

/** A scanned site directory. */
export interface SiteDirectory {
  readonly root: string;
  readonly ws: WsResources;
  /** Sorted by path. */
  readonly files: readonly SiteFile[];
  /** Paths skipped by `ignore`. */
  readonly ignored: readonly string[];
}

const EMPTY_WS: WsResources = { headers: [], routes: null, redirects: null, metadata: null, siteName: null, objectId: null, ignore: [] };

/**
 * Scans `dir`. @throws TuskInputError when `dir` is not a directory, a symlink leads outside it
 * or into a loop, or `ws-resources.json` is invalid (WsResourcesError).
 */
export async function scanSiteDirectory(dir: string): Promise<SiteDirectory> {
  let root: string;
  try {
    root = await realpath(dir);
    if (!(await stat(root)).isDirectory()) throw new Error('not a directory');
  } catch (e) {
    throw new TuskInputError(`${dir}: not a readable directory (${(e as Error).message})`);
  }
  const wsFile = join(root, WS_RESOURCES_FILE);
  let ws = EMPTY_WS;
  const wsText = await readFile(wsFile, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw new TuskInputError(`${wsFile}: cannot be read (${e.message})`);
  });
  if (wsText !== null) ws = parseWsResources(wsText, wsFile);
  const files: SiteFile[] = [];
  const ignored: string[] = [];
  // `stack`: real paths of the directories being walked, to detect a link back into one of them.
  const walk = async (real: string, shown: string, stack: string[]): Promise<void> => {
    const entries = await readdir(real, { withFileTypes: true });
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const shownPath = join(shown, e.name);
      let target = join(real, e.name);
      if (e.isSymbolicLink()) {
        try {
          target = await realpath(target);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ELOOP') throw new TuskInputError(`${shownPath}: symlink loop`);
          throw new TuskInputError(`${shownPath}: broken symlink (${(err as Error).message})`);
        }
        if (target !== root && !target.startsWith(root + sep))
          throw new TuskInputError(`${shownPath}: symlink leads outside the site directory (to ${target})`);
      }
      const st = await stat(target);
      const path = '/' + relative(dir, shownPath).split(sep).join('/');
      if (st.isDirectory()) {
        if (stack.includes(target)) throw new TuskInputError(`${shownPath}: symlink loop (leads back to ${target})`);
        if (isIgnored(ws, path)) {
          ignored.push(path);
          continue;
        }
        await walk(target, shownPath, [...stack, target]);
      } else if (st.isFile()) {
        if (path === `/${WS_RESOURCES_FILE}`) continue;
        if (isIgnored(ws, path)) ignored.push(path);
        else files.push({ path, file: target, size: st.size });
      }
    }
  };
  await walk(root, dir, [root]);
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { root, ws, files, ignored };
}
