/**
 * Shared pieces of the codec benchmarks (`tusk bench`, bench/*.ts): deterministic blob bytes,
 * medians, and one timed call with the CPU time it took.
 */

/**
 * Deterministic pseudo-random bytes (xorshift32 words from `seed`): both implementations of a
 * comparison encode the same blob, and a decode can be checked without keeping a copy.
 * Post: a fresh array owned by the caller.
 */
export function benchBytes(sizeBytes: number, seed: number): Uint8Array {
  const out = new Uint8Array(sizeBytes);
  const words = new Uint32Array(out.buffer, 0, sizeBytes >>> 2);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    words[i] = x;
  }
  for (let i = words.length * 4; i < sizeBytes; i++) out[i] = (i * 131 + seed) & 0xff;
  return out;
}

/** Median of a non-empty list (mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('median of an empty list');
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** What one timed call cost. */
export interface Timing {
  /** Wall-clock seconds. */
  readonly seconds: number;
  /** CPU seconds (user + system) of the whole process, every thread (worker threads included). */
  readonly cpuSeconds: number;
}

/** Runs `fn` once and measures it; the result of `fn` is returned beside the timing. */
export async function timed<T>(fn: () => T | Promise<T>): Promise<{ value: T; timing: Timing }> {
  const cpu = process.cpuUsage();
  const t = performance.now();
  const value = await fn();
  const seconds = (performance.now() - t) / 1000;
  const used = process.cpuUsage(cpu);
  return { value, timing: { seconds, cpuSeconds: (used.user + used.system) / 1e6 } };
}
