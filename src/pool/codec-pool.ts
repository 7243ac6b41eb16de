/**
 * A pool of codec worker threads that run the encoder's and decoder's stripe tasks on every core.
 *
 * The kernel module is compiled once and handed to each worker, which instantiates it on the
 * caller's shared kernel memory: tasks carry offsets, not bytes (never a transfer list naming a
 * wasm memory, which would copy all of it). The calling thread only plans, stages input and awaits,
 * so its event loop stays responsive during an encode — unless the pool is built with
 * `callerSlot`, for command-line use, where the calling thread runs one slot's tasks itself.
 *
 * Workers are bare `worker_threads` (no pool library): the threads start in the constructor, so
 * they boot while the caller reads its input; an idle pool does not keep the process alive.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { kernelModule, resolveFlavor, type KernelFlavor, type WasmKernel } from '../wasm/kernel.ts';
import { runStripeTask, type StripeTask, type TaskRunner } from '../codec/tasks.ts';
import type { WorkerInit, WorkerReply, WorkerTask } from './worker.ts';
import { takePrespawnedWorker, WORKER_URL } from './prespawn.ts';
import { TuskInputError } from '../errors.ts';

/** Options for {@link CodecPool}. */
export interface CodecPoolOptions {
  /** Worker threads (default: the machine's available parallelism). */
  threads?: number;
  /** Kernel flavour the workers run (default: as the calling thread resolves `auto`). */
  flavor?: KernelFlavor | 'auto';
  /**
   * The calling thread runs the last slot's tasks itself (slots = threads + 1), synchronously,
   * one task at a time. For short command-line jobs: the calling thread would otherwise only wait,
   * and starting one thread fewer saves its boot time. Not for servers (it blocks the event loop
   * for a task at a time). Default false.
   *
   * Such a pool has two slots per worker thread (slots = 2·threads + 1), and a worker is given up
   * to two tasks at once: while the calling thread is inside one of its own tasks it cannot hand a
   * worker its next one, so a worker with a single task idled for about half a task each time
   * (1 MiB blob-id, n = 1000: the worker was idle 25–68 % of phases B and C).
   */
  callerSlot?: boolean;
}

interface Job {
  message: WorkerTask;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface Thread {
  worker: Worker;
  /** Tasks posted to the worker and not yet answered, oldest first (it answers in order). */
  jobs: Job[];
  /** Whether the worker has booted (its first message: the module is loaded). */
  online: boolean;
  /** Whether the thread has answered a task (a thread failing before that is not replaced). */
  proven: boolean;
}

/** A pool of codec workers; pass it as `pool` to the async encode functions. Call `close()` when done. */
export class CodecPool implements TaskRunner {
  readonly slots: number;
  readonly flavor: KernelFlavor;
  /** Worker threads (slots minus the caller's slot, if any). */
  readonly threads: number;
  private readonly callerSlot: boolean;
  /** Tasks a worker is given at once (2 with a caller slot, see {@link CodecPoolOptions.callerSlot}). */
  private readonly depth: number;
  private readonly module: WebAssembly.Module;
  private readonly workers: Thread[] = [];
  private readonly queue: Job[] = [];
  private closing = false;
  private idle?: () => void;
  /** Callers of {@link ready} waiting for the count of booted workers to exceed a number. */
  private onlineWaiters: { above: number; resolve: () => void }[] = [];

  constructor(options: CodecPoolOptions = {}) {
    const threads = options.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1) throw new TuskInputError(`pool threads must be a positive integer, got ${threads}`);
    this.threads = threads;
    this.callerSlot = options.callerSlot === true;
    this.depth = this.callerSlot ? 2 : 1;
    this.slots = threads * this.depth + (this.callerSlot ? 1 : 0);
    this.flavor = resolveFlavor(options.flavor ?? 'auto');
    this.module = kernelModule(this.flavor);
    for (let i = 0; i < threads; i++) this.workers.push(this.spawn());
  }

  /**
   * Resolves once slot `slot` can start a task without waiting for a thread to boot: at once for
   * the caller's slot, otherwise when worker `slot mod threads` (in boot order) is up. A worker
   * takes ~0.1–0.2 s to boot; a planner that waits for this before handing a slot work lets the
   * threads already running take that work instead (a task given to a booting worker held up the
   * end of its phase: 1 MiB blob-id, the calling thread sat idle ~0.1 s).
   */
  ready(slot: number): Promise<void> {
    if (this.callerSlot && slot === this.slots - 1) return Promise.resolve();
    const above = slot % this.threads;
    if (this.waitIsOver(above)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.onlineWaiters.push({ above, resolve });
      this.updateRefs();
    });
  }

  /**
   * Runs one task on `kernel`'s memory: on a worker, or — with `callerSlot` and `slot` = the last
   * slot — right here. Resolves when the task's writes are done; rejects with the task's error.
   */
  async run(kernel: WasmKernel, task: StripeTask, slot?: number): Promise<void> {
    if (kernel.flavor !== this.flavor) throw new TuskInputError(`pool runs ${this.flavor} kernels, got a ${kernel.flavor} kernel`);
    if (this.closing) throw new Error('codec pool is closed');
    if (this.callerSlot && slot === this.slots - 1) {
      // Let the workers' replies (and the caller's reads) through between two inline tasks.
      await new Promise<void>((r) => setImmediate(r));
      runStripeTask(kernel.exports, task, kernel.memory.buffer.byteLength);
      return;
    }
    const message: WorkerTask = {
      memoryId: kernel.id,
      memory: kernel.memory,
      layout: { flavor: kernel.flavor, gf16Base: kernel.gf16Base, logWalshBase: kernel.logWalshBase, gf8Base: kernel.gf8Base },
      task,
    };
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ message, resolve, reject });
      this.dispatch();
    });
  }

  /** Stops the workers (tasks already queued finish first). */
  async close(): Promise<void> {
    this.closing = true;
    if (this.queue.length > 0 || this.workers.some((t) => t.jobs.length > 0)) await new Promise<void>((r) => (this.idle = r));
    this.wakeWaiters(true);
    await Promise.all(this.workers.splice(0).map((t) => t.worker.terminate()));
  }

  private spawn(): Thread {
    // A worker started ahead of the pool (prespawn.ts) is adopted and handed the module first.
    const early = takePrespawnedWorker();
    const worker = early ?? new Worker(WORKER_URL, { workerData: { module: this.module } });
    if (early) early.postMessage({ module: this.module } satisfies WorkerInit);
    const thread: Thread = { worker, jobs: [], online: false, proven: false };
    worker.on('message', (reply: WorkerReply) => {
      if (reply.ready) {
        thread.online = true;
        this.wakeWaiters(false);
        return this.dispatch();
      }
      const job = thread.jobs.shift();
      thread.proven = true;
      if (job) {
        if (reply.error !== undefined) job.reject(reply.error);
        else job.resolve();
      }
      this.dispatch();
    });
    const fail = (error: unknown) => {
      const i = this.workers.indexOf(thread);
      if (i < 0) return; // already handled (error, then exit) or terminated by close()
      this.workers.splice(i, 1);
      for (const job of thread.jobs.splice(0)) job.reject(error);
      // Waiters counting on this thread are released (their slot's tasks go to the queue).
      this.wakeWaiters(this.workers.length === 0);
      if (this.closing) return this.dispatch();
      if (thread.proven) this.workers.push(this.spawn());
      else if (this.workers.length === 0) {
        // No thread ever came up: fail everything queued rather than respawn in a loop.
        for (const job of this.queue.splice(0)) job.reject(error);
      }
      this.dispatch();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`codec pool worker exited with code ${code}`)));
    // An idle pool never keeps the process alive (updateRefs). After the listeners: adding the
    // first 'message' listener refs the worker's port again, and a worker never given a task would
    // then hold the process open.
    worker.unref();
    return thread;
  }

  /** Resolves the {@link ready} waiters now satisfied (all of them with `all`). */
  private wakeWaiters(all: boolean): void {
    const waiting: typeof this.onlineWaiters = [];
    for (const w of this.onlineWaiters) {
      if (all || this.waitIsOver(w.above)) w.resolve();
      else waiting.push(w);
    }
    this.onlineWaiters = waiting;
    this.updateRefs();
  }

  /**
   * Whether a wait for more than `above` booted workers is over: they have booted, or the pool has
   * no more than `above` threads left (a failed one is not waited for; its slot's tasks queue).
   */
  private waitIsOver(above: number): boolean {
    return this.workers.filter((t) => t.online).length > above || this.workers.length <= above;
  }

  /**
   * A thread keeps the process alive while it has tasks, or while it is booting and someone waits
   * for it ({@link ready}); otherwise the pool never holds the process open.
   */
  private updateRefs(): void {
    const awaited = this.onlineWaiters.length > 0;
    for (const t of this.workers) {
      if (t.jobs.length > 0 || (!t.online && awaited)) t.worker.ref();
      else t.worker.unref();
    }
  }

  private dispatch(): void {
    // Booted threads first, the least loaded first; a thread still booting gets a task only when
    // no booted one can take it (it runs it once up).
    for (let round = 0; round < this.depth && this.queue.length > 0; round++) {
      for (const thread of this.workers) {
        if (this.queue.length === 0) break;
        if (thread.jobs.length > round || (!thread.online && this.workers.some((t) => t.online))) continue;
        const job = this.queue.shift()!;
        thread.jobs.push(job);
        thread.worker.postMessage(job.message);
      }
    }
    this.updateRefs();
    if (this.idle && this.queue.length === 0 && !this.workers.some((t) => t.jobs.length > 0)) {
      this.idle();
      this.idle = undefined;
    }
  }
}

let shared: CodecPool | undefined;

/** The process-wide default pool (created on first use, sized to the machine's cores). */
export function defaultPool(): CodecPool {
  if (!shared) shared = new CodecPool();
  return shared;
}

/** Closes the default pool if one was created (lets a CLI process exit). */
export async function closeDefaultPool(): Promise<void> {
  const p = shared;
  shared = undefined;
  await p?.close();
}
