/**
 * Admission control (walrus-http.md §1.5, §2.1): at most `maxConcurrent` requests run, at most
 * `maxBuffer` are admitted in total (running + waiting). A request beyond the buffer is refused at
 * once with 429 (plain text, Walrus's wording) instead of queueing without bound; a gateway that
 * is shutting down refuses with 503.
 */
import { PlainError } from './http.ts';

/** Options of an `AdmissionQueue`. */
export interface AdmissionOptions {
  /** Requests running at once (≥ 1). */
  readonly maxConcurrent: number;
  /** Requests admitted at once, running or waiting (≥ 1; Walrus: publisher 8, aggregator 320). */
  readonly maxBuffer: number;
  /** Who is answering, for the 429 text (`publisher` / `aggregator`). */
  readonly role: string;
}

/** A bounded admission queue. */
export class AdmissionQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private closed = false;
  readonly options: AdmissionOptions;

  constructor(options: AdmissionOptions) {
    if (!(options.maxConcurrent >= 1) || !(options.maxBuffer >= 1)) throw new RangeError('admission limits must be ≥ 1');
    this.options = options;
  }

  /** Requests admitted now (running + waiting). */
  get admitted(): number {
    return this.running + this.waiting.length;
  }

  /**
   * Runs `work` once a slot is free.
   * @throws PlainError 429 when the buffer is full, 503 once `close()` was called.
   */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) throw new PlainError(503, `the ${this.options.role} is shutting down; please try again later`);
    if (this.admitted >= this.options.maxBuffer)
      throw new PlainError(429, `the ${this.options.role} is receiving too many requests; please try again later`);
    if (this.running >= this.options.maxConcurrent) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next)
        next(); // the slot passes on: `running` is unchanged
      else this.running--;
    }
  }

  /** Refuses new requests with 503 from now on. */
  close(): void {
    this.closed = true;
  }
}
