/**
 * Who holds a TCP port: `tusk dev` reuses the ports fixed on its first start, so a process left
 * over from an earlier run (or anything else) on one of them must be named, with its PID, instead
 * of a child failing with a bare "exited with 1".
 *
 * Linux only: the listening socket's inode is read from /proc/net/tcp and /proc/net/tcp6, then
 * found among the /proc/<pid>/fd links (`socket:[inode]`). Processes of other users cannot be
 * inspected; then the PID is unknown and only the port is reported.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import { createServer } from 'node:net';

/** A process that holds a port. */
export interface PortOwner {
  readonly pid: number;
  /** Its command line, space-separated (may be empty). */
  readonly command: string;
}

/**
 * Whether `port` can be bound on `host` now (bound and released at once).
 * @returns null when free, else the error code (`EADDRINUSE`, `EACCES`, …).
 */
export function probePort(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'EUNKNOWN'));
    s.listen({ host, port, exclusive: true }, () => s.close(() => resolve(null)));
  });
}

/** The inodes of sockets listening on `port` (from /proc/net/tcp and tcp6); empty off Linux. */
async function listeningInodes(port: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const localPort = parseInt(f[1].split(':')[1] ?? '', 16);
      // st 0A = LISTEN
      if (localPort === port && f[3] === '0A') inodes.add(f[9]);
    }
  }
  return inodes;
}

/**
 * The process listening on TCP `port`, or null when none is found (not Linux, another user's
 * process, or nobody listens).
 */
export async function findPortOwner(port: number): Promise<PortOwner | null> {
  const inodes = await listeningInodes(port);
  if (inodes.size === 0) return null;
  const targets = new Set([...inodes].map((i) => `socket:[${i}]`));
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = await readdir(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to read
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = await readlink(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (targets.has(link)) {
        let command = '';
        try {
          command = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean).join(' ');
        } catch {
          /* exited meanwhile */
        }
        return { pid: Number(pid), command };
      }
    }
  }
  return null;
}
