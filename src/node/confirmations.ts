/**
 * Signed storage confirmations (walrus-protocol.md §5 routes 7–8): a BLS signature over the
 * storage-confirmation message, given only when every shard the node holds now has both slivers of
 * the blob and its metadata; with `wait_for_registration`, a long poll woken by applied chain
 * events. Part of {@link NodeService}, which owns the keys and the shared state.
 */
import { ApiError, notRegistered } from '../node-api/errors.ts';
import type { SignedMessageJson } from '../node-api/wire.ts';
import { storageConfirmationMessage, type BlobPersistence } from '../protocol/messages.ts';
import type { NodeService } from './service.ts';

/** The confirmation side of a storage node: see the file header. */
export class Confirmations {
  private readonly ctx: NodeService;

  constructor(ctx: NodeService) {
    this.ctx = ctx;
  }

  /**
   * `GET /v1/blobs/{id}/confirmation/{permanent|deletable/{object}}`: a BLS-signed storage
   * confirmation for the current epoch, given only when every shard this node holds now has both
   * slivers of the blob. With `waitMillis`, first waits up to that long for the registration.
   */
  async confirmation(
    blobId: Uint8Array,
    persistence: BlobPersistence,
    waitMillis: number | null,
    signal?: AbortSignal,
  ): Promise<{ signed: SignedMessageJson }> {
    if (waitMillis !== null && !this.ctx.store.isRegistered(blobId, this.ctx.epoch())) {
      await this.waitFor(
        () => this.ctx.store.isRegistered(blobId, this.ctx.epoch()),
        Math.min(waitMillis, this.ctx.limits.maxWaitMillis),
        signal,
      );
    }
    const epoch = this.ctx.epoch();
    if (!this.ctx.store.isRegistered(blobId, epoch)) throw notRegistered();
    if (persistence.kind === 'deletable') {
      const objectId = '0x' + Buffer.from(persistence.objectId).toString('hex');
      if (!this.ctx.store.liveObjects(blobId, epoch).some((o) => o.objectId === objectId && o.deletable)) throw notRegistered();
    }
    // As Walrus (a blob is "stored" only with its metadata): slivers alone do not earn a confirmation.
    if (!this.ctx.store.hasMetadata(blobId)) {
      throw new ApiError('FAILED_PRECONDITION', 'MISSING_SLIVERS', 'the metadata of the blob is not stored', {
        retryable: true,
        metadata: { missing: 'metadata' },
      });
    }
    const stored = this.ctx.store.storedSliverKeys(blobId);
    for (const shard of this.ctx.currentShards()) {
      const pair = this.ctx.pairOfShard(blobId, shard);
      if (!stored.has(`${pair}:p`) || !stored.has(`${pair}:s`)) {
        throw new ApiError('FAILED_PRECONDITION', 'MISSING_SLIVERS', 'the required slivers are not all stored', {
          retryable: true,
          metadata: { shard, pair },
        });
      }
    }
    const message = storageConfirmationMessage(epoch, blobId, persistence);
    return { signed: this.ctx.sign(message) };
  }

  /** Resolves when `done()` holds (re-checked after each applied event batch) or after `ms`. */
  private waitFor(done: () => boolean, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.ctx.changes.off('applied', check);
        this.ctx.changes.off('close', finish);
        signal?.removeEventListener('abort', finish);
        resolve();
      };
      const check = () => {
        try {
          if (done()) finish();
        } catch {
          finish();
        }
      };
      const timer = setTimeout(finish, Math.max(0, ms));
      this.ctx.changes.on('applied', check);
      this.ctx.changes.on('close', finish);
      signal?.addEventListener('abort', finish, { once: true });
      check();
    });
  }
}
