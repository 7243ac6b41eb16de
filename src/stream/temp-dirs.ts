/**
 * Private temporary folders of reads and decodes (`tusk-read-<pid>-XXXXXX`, …) and the sweep that
 * removes those of processes that died without cleaning up (SIGKILL, power loss): a killed
 * `tusk read` of a large blob leaves ~1.5× the blob in slivers behind, which nothing else would
 * ever remove. Each folder's name carries its creator's PID; a folder is swept only when that
 * process no longer exists.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Prefixes of the folders this module creates (and may sweep). */
export type TempDirKind = 'read' | 'decode' | 'out';

/** A fresh private folder `<base>/tusk-<kind>-<pid>-XXXXXX`. @post the caller removes it. */
export function makeTempDir(kind: TempDirKind, base: string = tmpdir()): Promise<string> {
  return mkdtemp(join(base, `tusk-${kind}-${process.pid}-`));
}

/** Whether process `pid` exists (EPERM: it does, owned by someone else). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Folders of earlier releases had no PID in their name: swept once they are this old. */
const LEGACY_MAX_AGE_MS = 24 * 3600_000;

/**
 * Removes the temporary folders in `base` left by tusk processes that no longer exist (and
 * PID-less ones of earlier releases older than a day). Best effort: errors are ignored (another
 * process may be sweeping too). Resolves to the folders removed.
 */
export async function sweepStaleTempDirs(base: string = tmpdir()): Promise<string[]> {
  const names = await readdir(base).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const m = /^tusk-(?:read|decode|out)-(\d+)-[A-Za-z0-9]{6}$/.exec(name);
    const legacy = /^tusk-(?:read|readout|decode)-[A-Za-z0-9]{6}$/.test(name);
    if (!m && !legacy) continue;
    const path = join(base, name);
    if (m) {
      const pid = Number(m[1]);
      if (pid === process.pid || alive(pid)) continue;
    } else {
      const st = await stat(path).catch(() => null);
      if (!st || Date.now() - st.mtimeMs < LEGACY_MAX_AGE_MS) continue;
    }
    await rm(path, { recursive: true, force: true }).then(
      () => removed.push(path),
      () => {},
    );
  }
  return removed;
}
