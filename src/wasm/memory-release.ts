/**
 * Telling pool workers that a kernel memory is finished with. Workers keep an instance per memory
 * they have run tasks on; a memory whose encode or decode is over is announced here so they drop
 * it (otherwise a few dead multi-GB memories could stay alive until LRU eviction).
 */
import { BroadcastChannel } from 'node:worker_threads';

export const FORGET_CHANNEL = 'tusk-codec-pool-forget';

let channel: BroadcastChannel | undefined;

/** Announces to every pool worker in this process that kernel `id`'s memory is no longer used. */
export function forgetKernel(id: number): void {
  if (!channel) {
    channel = new BroadcastChannel(FORGET_CHANNEL);
    channel.unref();
  }
  channel.postMessage(id);
}
