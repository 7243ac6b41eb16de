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
import type { WorkerReply, WorkerTask } from './worker.ts';
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
  job?: Job;
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
  private readonly module: WebAssembly.Module;
  private readonly workers: Thread[] = [];
  private readonly queue: Job[] = [];
  private closing = false;
  private idle?: () => void;

  constructor(options: CodecPoolOptions = {}) {
    const threads = options.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1) throw new TuskInputError(`pool threads must be a positive integer, got ${threads}`);
    this.threads = threads;
    this.callerSlot = options.callerSlot === true;
    this.slots = threads + (this.callerSlot ? 1 : 0);
    this.flavor = resolveFlavor(options.flavor ?? 'auto');
    this.module = kernelModule(this.flavor);
    for (let i = 0; i < threads; i++) this.workers.push(this.spawn());
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
    if (this.queue.length > 0 || this.workers.some((t) => t.job)) await new Promise<void>((r) => (this.idle = r));
    await Promise.all(this.workers.splice(0).map((t) => t.worker.terminate()));
  }

  private spawn(): Thread {
    const worker = new Worker(new URL('./worker.ts', import.meta.url), { workerData: { module: this.module } });
    const thread: Thread = { worker, proven: false };
    worker.unref(); // an idle pool never keeps the process alive; a busy one is ref'd in dispatch
    worker.on('message', (reply: WorkerReply) => {
      const job = thread.job;
      thread.job = undefined;
      thread.proven = true;
      worker.unref();
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
      thread.job?.reject(error);
      thread.job = undefined;
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
    return thread;
  }

  private dispatch(): void {
    for (const thread of this.workers) {
      if (this.queue.length === 0) break;
      if (thread.job) continue;
      const job = this.queue.shift()!;
      thread.job = job;
      thread.worker.ref();
      thread.worker.postMessage(job.message);
    }
    if (this.idle && this.queue.length === 0 && !this.workers.some((t) => t.job)) {
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
