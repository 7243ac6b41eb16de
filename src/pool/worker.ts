/**
 * A codec pool worker (Piscina). It receives the compiled kernel module once (workerData) and,
 * per task, the (shared) memory the task's offsets refer to; it instantiates the module on each
 * memory once and keeps that instance. Tasks are plain numbers: no data crosses threads.
 */
import { BroadcastChannel, workerData } from 'node:worker_threads';
import { attachKernel, type KernelExports, type KernelLayout } from '../wasm/kernel.ts';
import { runStripeTask, type StripeTask } from '../codec/tasks.ts';
import { FORGET_CHANNEL } from '../wasm/memory-release.ts';

/** What the pool sends with each task. */
export interface WorkerTask {
  memoryId: number;
  memory: WebAssembly.Memory;
  layout: KernelLayout;
  task: StripeTask;
}

const module: WebAssembly.Module = workerData.module;
/** Instances by memory id. A few are kept: the pool's own memory and the latest dedicated ones. */
const instances = new Map<number, KernelExports>();
const MAX_INSTANCES = 3;

// The pool announces memories it is done with (src/pool/codec-pool.ts forgetKernel): dropping the
// instance lets a finished encode's memory be collected instead of waiting for LRU eviction.
const forget = new BroadcastChannel(FORGET_CHANNEL);
forget.onmessage = (e) => instances.delete((e as { data: number }).data);
forget.unref();

function instanceFor(t: WorkerTask): KernelExports {
  let k = instances.get(t.memoryId);
  if (k) {
    // Refresh recency.
    instances.delete(t.memoryId);
    instances.set(t.memoryId, k);
    return k;
  }
  k = attachKernel(t.memory, t.layout, module);
  instances.set(t.memoryId, k);
  // Dropping the instance lets a result's memory be collected once its owner lets go of it.
  while (instances.size > MAX_INSTANCES) instances.delete(instances.keys().next().value!);
  return k;
}

export default function run(t: WorkerTask): void {
  runStripeTask(instanceFor(t), t.task, t.memory.buffer.byteLength);
}
