/**
 * A codec pool worker: a bare worker thread (src/pool/codec-pool.ts starts it; no pool library, so
 * a worker is up in the time Node takes to boot a thread). It receives the compiled kernel module
 * once — in workerData, or, when it was started ahead of its pool (src/pool/prespawn.ts), as its
 * first message `{ module }` — and, per task, the (shared) memory the task's offsets refer to; it instantiates
 * the module on each memory once and keeps that instance. Tasks are plain numbers: no data crosses
 * threads. The worker first posts `{ ready: true }` once booted; each task is then answered with
 * `{}`, or `{ error }` if it threw (tasks are answered in the order they were sent, so the pool
 * knows which task a reply answers).
 */
import { BroadcastChannel, parentPort, workerData } from 'node:worker_threads';
import { attachKernel, type KernelExports, type KernelLayout } from '../wasm/kernel.ts';
import { runStripeTask, type StripeTask } from '../codec/tasks.ts';
import { FORGET_CHANNEL } from '../wasm/memory-release.ts';

/** The first message to a worker started without a module in its workerData. */
export interface WorkerInit {
  module: WebAssembly.Module;
}

/** What the pool sends with each task. */
export interface WorkerTask {
  memoryId: number;
  memory: WebAssembly.Memory;
  layout: KernelLayout;
  task: StripeTask;
}

/** The worker's reply to one task, or (first message, `ready`) word that it has booted. */
export interface WorkerReply {
  error?: unknown;
  ready?: true;
}

let module: WebAssembly.Module | undefined = workerData?.module;
/** Instances by memory id. A few are kept: the pool's own memory and the latest dedicated ones. */
const instances = new Map<number, KernelExports>();
const MAX_INSTANCES = 3;

// The pool announces memories it is done with (src/wasm/memory-release.ts forgetKernel): dropping the
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
  k = attachKernel(t.memory, t.layout, module!);
  instances.set(t.memoryId, k);
  // Dropping the instance lets a result's memory be collected once its owner lets go of it.
  while (instances.size > MAX_INSTANCES) instances.delete(instances.keys().next().value!);
  return k;
}

parentPort!.on('message', (t: WorkerTask | WorkerInit) => {
  if (module === undefined) {
    module = (t as WorkerInit).module;
    parentPort!.postMessage({ ready: true } satisfies WorkerReply);
    return;
  }
  if (!('task' in t)) return;
  let reply: WorkerReply;
  try {
    runStripeTask(instanceFor(t), t.task, t.memory.buffer.byteLength);
    reply = {};
  } catch (error) {
    reply = { error };
  }
  parentPort!.postMessage(reply);
});
// Booted: say so now, or (started ahead of its pool) once the module has come.
if (module !== undefined) parentPort!.postMessage({ ready: true } satisfies WorkerReply);
