/**
 * Retrying with exponential backoff and jitter, for calls whose errors say `retryable`. Fatal
 * errors (bad input, a chain abort, a failed verification) surface at once: retrying them would
 * only delay the same answer.
 */
import { TuskError } from '../errors.ts';

/** Options of `withRetries`. */
export interface RetryOptions {
  /** Attempts after the first (default 4). */
  readonly retries?: number;
  /** First delay in ms (default 200); doubles each time, capped at `maxDelayMs` (5000), ±50 % jitter. */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly signal?: AbortSignal;
  /**
   * Decides whether `error` (after `attempt` retries so far) is worth another try; default: a
   * retryable TuskError while retries remain.
   */
  readonly shouldRetry?: (error: unknown, attempt: number) => boolean;
  /** Called before each retry with the error that caused it. */
  readonly onRetry?: (error: unknown, attempt: number) => void;
}

/** True for errors worth retrying: a `TuskError` with `retryable`. */
export function isRetryable(error: unknown): boolean {
  return error instanceof TuskError && error.retryable;
}

/** Runs `fn` until it succeeds, a non-retryable error occurs, the retries run out or `signal` aborts. */
export async function withRetries<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const retries = options.retries ?? 4;
  const base = options.baseDelayMs ?? 200;
  const max = options.maxDelayMs ?? 5000;
  for (let attempt = 0; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (e) {
      const again = options.shouldRetry ? options.shouldRetry(e, attempt) : attempt < retries && isRetryable(e);
      if (!again || options.signal?.aborted) throw e;
      options.onRetry?.(e, attempt + 1);
      const delay = Math.min(max, base * 2 ** attempt) * (0.5 + Math.random());
      await sleep(delay, options.signal);
    }
  }
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Resolves after `ms`, or as soon as `signal` aborts (never rejects): for loops that re-check the signal. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return sleep(ms, signal).catch(() => {});
}

/** A counting semaphore: at most `limit` holders at once. */
export class Semaphore {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(limit: number) {
    this.free = limit;
  }
  /** Runs `fn` holding one permit. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}
