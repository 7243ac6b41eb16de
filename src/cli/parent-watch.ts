/**
 * `--exit-with-parent` for the long-running commands (`chain serve`, `node run`) that `tusk dev`
 * (src/network/dev-network.ts) starts as children: a child must not outlive its supervisor, or a
 * `kill -9` of `tusk dev` leaves the chain and every node running, holding their ports.
 *
 * Two independent signals, because neither is enough alone:
 *  - the supervisor gives the child a stdin pipe and never writes to it; the kernel closes the
 *    pipe when the supervisor dies, however it dies, and the child sees end-of-file at once;
 *  - the parent PID is polled (once a second): when it changes the child was re-parented (to init
 *    or a subreaper), which also catches a supervisor that passed stdin on to someone else.
 */

import { fstatSync } from 'node:fs';

/** Whether fd 0 is a pipe or a socket (what a supervisor passes; /dev/null would end at once). */
function stdinIsPipe(): boolean {
  try {
    const st = fstatSync(0);
    return st.isFIFO() || st.isSocket();
  } catch {
    return false;
  }
}

/** Options of {@link watchParent}. */
export interface ParentWatchOptions {
  /** Poll interval of the parent PID, ms (default 1000). */
  readonly pollMs?: number;
  /** Watch stdin for end-of-file (default true; only done when stdin is a pipe or socket, not a terminal, file or /dev/null). */
  readonly stdin?: boolean;
}

/**
 * Calls `onGone(reason)` once when this process's parent has died. Returns a function that stops
 * watching (it must be called so the process can exit on its own: the watch holds stdin open).
 */
export function watchParent(onGone: (reason: string) => void, options: ParentWatchOptions = {}): () => void {
  const parent = process.ppid;
  let done = false;
  const fire = (reason: string) => {
    if (done) return;
    stop();
    onGone(reason);
  };
  const timer = setInterval(() => {
    if (process.ppid !== parent) fire(`parent process ${parent} exited`);
  }, options.pollMs ?? 1000);
  timer.unref();
  const watchStdin = (options.stdin ?? true) && stdinIsPipe();
  const onEnd = () => fire(`parent process ${parent} exited (its pipe closed)`);
  if (watchStdin) {
    process.stdin.on('end', onEnd);
    process.stdin.on('error', onEnd);
    // Nothing is expected on the pipe: read and drop whatever comes.
    process.stdin.on('data', () => {});
    process.stdin.resume();
  }
  function stop() {
    if (done) return;
    done = true;
    clearInterval(timer);
    if (watchStdin) {
      process.stdin.removeListener('end', onEnd);
      process.stdin.removeListener('error', onEnd);
      process.stdin.pause();
      process.stdin.unref?.();
    }
  }
  return stop;
}
