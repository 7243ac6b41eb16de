/**
 * Codec worker threads started before anything knows it needs them: `tusk blob-id` starts its
 * worker as its first act (bin/tusk.js), so the thread boots while the calling thread loads the
 * CLI's modules and reads the file, and the pool adopts it ({@link takePrespawnedWorker}).
 *
 * Why: a worker takes ~0.08 s to boot on an idle core and ~0.15 s once the calling thread is
 * hashing beside it (2-core VM, Node 24); started by the pool, the worker of a 1 MiB blob-id came
 * up after a third of the work was done. A prespawned worker waits for its kernel module in its
 * first message (src/pool/worker.ts), so this module loads nothing but node:worker_threads.
 */
import { Worker } from 'node:worker_threads';

/** The codec worker's entry point (shared with codec-pool.ts). */
export const WORKER_URL = new URL('./worker.ts', import.meta.url);

const waiting: Worker[] = [];

/**
 * Starts `count` (≥ 0) codec workers that wait for a pool to adopt them. They never keep the
 * process alive; one that dies before adoption is dropped.
 */
export function prespawnCodecWorkers(count: number): void {
  for (let i = 0; i < count; i++) {
    const worker = new Worker(WORKER_URL, { workerData: {} });
    const drop = () => {
      const at = waiting.indexOf(worker);
      if (at >= 0) waiting.splice(at, 1);
    };
    worker.once('error', drop);
    worker.once('exit', drop);
    worker.unref();
    waiting.push(worker);
  }
}

/**
 * A prespawned worker, removed from the waiting list (the caller owns it: it must send the
 * module message and attach its own listeners), or undefined when none is left.
 */
export function takePrespawnedWorker(): Worker | undefined {
  const worker = waiting.shift();
  worker?.removeAllListeners('error').removeAllListeners('exit');
  return worker;
}
