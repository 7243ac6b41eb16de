/**
 * A Piscina pool of codec workers that run the encoder's stripe tasks on every core.
 *
 * The kernel module is compiled once and handed to each worker, which instantiates it on the
 * caller's shared kernel memory: tasks carry offsets, not bytes (never a transfer list naming a
 * wasm memory, which would copy all of it). The calling thread only plans, stages input and awaits,
 * so its event loop stays responsive during an encode.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { kernelModule, resolveFlavor, type KernelFlavor, type WasmKernel } from '../wasm/kernel.ts';
import type { StripeTask } from '../codec/tasks.ts';
import type { TaskRunner } from '../codec/tasks.ts';
import type { WorkerTask } from './worker.ts';
import { TuskInputError } from '../errors.ts';

/** Options for {@link CodecPool}. */
export interface CodecPoolOptions {
  /** Worker threads (default: the machine's available parallelism). */
  threads?: number;
  /** Kernel flavour the workers run (default: as the calling thread resolves `auto`). */
  flavor?: KernelFlavor | 'auto';
}

/** A pool of codec workers; pass it as `pool` to the async encode functions. Call `close()` when done. */
export class CodecPool implements TaskRunner {
  readonly slots: number;
  readonly flavor: KernelFlavor;
  private readonly piscina: Piscina;

  constructor(options: CodecPoolOptions = {}) {
    const threads = options.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1) throw new TuskInputError(`pool threads must be a positive integer, got ${threads}`);
    this.slots = threads;
    this.flavor = resolveFlavor(options.flavor ?? 'auto');
    this.piscina = new Piscina({
      filename: new URL('./worker.ts', import.meta.url).href,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 60_000,
      workerData: { module: kernelModule(this.flavor) },
    });
  }

  /** Runs one task on a worker, on `kernel`'s memory. Resolves when the task's writes are done. */
  async run(kernel: WasmKernel, task: StripeTask): Promise<void> {
    if (kernel.flavor !== this.flavor) throw new TuskInputError(`pool runs ${this.flavor} kernels, got a ${kernel.flavor} kernel`);
    const message: WorkerTask = {
      memoryId: kernel.id,
      memory: kernel.memory,
      layout: { flavor: kernel.flavor, gf16Base: kernel.gf16Base, logWalshBase: kernel.logWalshBase, gf8Base: kernel.gf8Base },
      task,
    };
    await this.piscina.run(message);
  }

  /** Stops the workers (pending tasks finish first). */
  async close(): Promise<void> {
    await this.piscina.close();
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
