/**
 * Batched registration and certification for a pipeline of many blobs: a `Chain` view whose
 * `registerBlob` and `certifyBlob` calls, when several are pending at once, go to the chain as ONE
 * `registerBlobs` / `certifyBlobs` transaction (Walrus does the same with several register_blob
 * commands in one PTB). Everything else passes through unchanged, so the ordinary store flow
 * (client/store-blob.ts) runs on it as on the chain itself.
 *
 * Group commit, no added latency: a call made while no transaction of its kind is in flight is
 * sent at once, alone (as the single-blob call); calls made while one is in flight queue and leave
 * together, as one transaction, when it returns. The more blobs are in the pipeline at once, the
 * larger the batches.
 *
 * Failures: a batch is atomic on the chain, so when it aborts (ChainAbortError or bad input)
 * nothing of it was applied and each call is sent again on its own, getting its own outcome (the
 * store flow's handling of EAlreadyCertified or an epoch change stays per blob). Any other failure
 * (the chain unreachable after the client's own re-sends) is given to every call of the batch: the
 * transaction may have run, and the store flow's retry reuses a registration that did land (it
 * looks the blob ID up before paying), so nothing is paid twice.
 *
 * A chain without the batched calls (the Sui adapter) is returned as it is.
 */
import type { Signer } from '@mysten/sui/cryptography';
import { ChainAbortError, TuskInputError } from '../errors.ts';
import type { BlobObject, CertificateOptions, Chain, ObjectId, RegisterBlobOptions, TxEffects } from '../chain/types.ts';

/** Options of `batchedChain`. */
export interface BatchedChainOptions {
  /** Most calls in one transaction (default 64; the chain accepts up to 256). */
  readonly maxBatch?: number;
  /** Called after each successful transaction this view sends, with its kind and its number of calls. */
  readonly onBatch?: (kind: 'register' | 'certify', size: number) => void;
}

type Effects = TxEffects & { blob: BlobObject };

interface Pending<A> {
  readonly arg: A;
  readonly resolve: (v: Effects) => void;
  readonly reject: (e: unknown) => void;
}

/** One queue per (kind, sender): calls of different signers never share a transaction. */
class GroupCommit<A> {
  private queue: Pending<A>[] = [];
  private busy = false;
  private readonly single: (arg: A) => Promise<Effects>;
  private readonly batch: (args: A[]) => Promise<TxEffects & { blobs: BlobObject[] }>;
  private readonly maxBatch: number;
  private readonly onBatch: (size: number) => void;

  constructor(
    single: (arg: A) => Promise<Effects>,
    batch: (args: A[]) => Promise<TxEffects & { blobs: BlobObject[] }>,
    maxBatch: number,
    onBatch: (size: number) => void,
  ) {
    this.single = single;
    this.batch = batch;
    this.maxBatch = maxBatch;
    this.onBatch = onBatch;
  }

  call(arg: A): Promise<Effects> {
    return new Promise<Effects>((resolve, reject) => {
      this.queue.push({ arg, resolve, reject });
      if (!this.busy) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.busy = true;
    try {
      while (this.queue.length > 0) {
        const group = this.queue.splice(0, this.maxBatch);
        if (group.length === 1) {
          const [p] = group;
          await this.single(p.arg).then((v) => {
            this.onBatch(1);
            p.resolve(v);
          }, p.reject);
          continue;
        }
        try {
          const res = await this.batch(group.map((p) => p.arg));
          this.onBatch(group.length);
          group.forEach((p, i) => {
            const blob = res.blobs[i];
            const events = res.events.filter((e) => !('objectId' in e.event) || e.event.objectId === blob.id);
            p.resolve({ digest: res.digest, events, blob });
          });
        } catch (e) {
          if (e instanceof ChainAbortError || e instanceof TuskInputError) {
            // Nothing of the batch was applied: each call on its own gets its own answer.
            await Promise.all(
              group.map((p) =>
                this.single(p.arg).then((v) => {
                  this.onBatch(1);
                  p.resolve(v);
                }, p.reject),
              ),
            );
          } else {
            for (const p of group) p.reject(e);
          }
        }
      }
    } finally {
      this.busy = false;
    }
  }
}

/**
 * A view of `chain` that batches concurrent `registerBlob` and `certifyBlob` calls (see the file
 * header). Returns `chain` itself when it has no `registerBlobs` / `certifyBlobs`.
 * @pre the caller owns the view's use; the underlying chain may be shared.
 */
export function batchedChain(chain: Chain, options: BatchedChainOptions = {}): Chain {
  const maxBatch = options.maxBatch ?? 64;
  if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > 256)
    throw new TuskInputError(`batchedChain: maxBatch must be an integer in 1…256, got ${maxBatch}`);
  const registerBlobs = chain.registerBlobs?.bind(chain);
  const certifyBlobs = chain.certifyBlobs?.bind(chain);
  if (!registerBlobs || !certifyBlobs) return chain;
  const registers = new Map<string, GroupCommit<RegisterBlobOptions>>();
  const certifies = new Map<string, GroupCommit<CertificateOptions & { blobObjectId: ObjectId }>>();
  const registerQueue = (signer: Signer) => {
    const key = signer.toSuiAddress();
    let q = registers.get(key);
    if (!q) {
      q = new GroupCommit(
        (o) => chain.registerBlob(signer, o),
        (os) => registerBlobs(signer, os),
        maxBatch,
        (n) => options.onBatch?.('register', n),
      );
      registers.set(key, q);
    }
    return q;
  };
  const certifyQueue = (signer: Signer) => {
    const key = signer.toSuiAddress();
    let q = certifies.get(key);
    if (!q) {
      q = new GroupCommit(
        ({ blobObjectId, ...c }) => chain.certifyBlob(signer, blobObjectId, c),
        (cs) => certifyBlobs(signer, cs),
        maxBatch,
        (n) => options.onBatch?.('certify', n),
      );
      certifies.set(key, q);
    }
    return q;
  };
  const overrides = {
    registerBlob: (signer: Signer, o: RegisterBlobOptions) => registerQueue(signer).call(o),
    certifyBlob: (signer: Signer, blobObjectId: ObjectId, c: CertificateOptions) => certifyQueue(signer).call({ ...c, blobObjectId }),
  };
  return new Proxy(chain, {
    get(target, prop) {
      if (prop === 'registerBlob' || prop === 'certifyBlob') return overrides[prop];
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
