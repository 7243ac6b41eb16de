/**
 * The event follower with shard recovery in the background: while recovery waits on a peer that
 * does not answer, events keep being applied (a registration is visible at once), and the epoch
 * is reported synced only after recovery has ended. The store (real SQLite), the codec pool and
 * the unresponsive peer (a real TCP server on 127.0.0.1) are real; the chain is a small in-memory
 * event log, because the point is the follower's scheduling, not the chain.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import type { Chain, ChainEvent, ChainEventEnvelope, CommitteeInfo } from '../../src/chain/types.ts';
import { CodecPool } from '../../src/pool/codec-pool.ts';
import { encodeBlob } from '../../src/codec/encode.ts';
import { generateBlsKeyPair } from '../../src/crypto/bls.ts';
import { NodeStore } from '../../src/node/store.ts';
import { PoolExpander } from '../../src/node/pool-expander.ts';
import { NodeService } from '../../src/node/service.ts';
import { EventFollower } from '../../src/node/follower.ts';
import { randomBytes } from '../helpers/blobs.ts';
import { tempDir } from './helpers.ts';

const n = 10;
const me = '0x' + 'aa'.repeat(32);
let pool: CodecPool;
let tmp: ReturnType<typeof tempDir>;
let silent: Server;
const sockets: Socket[] = [];
let hangUp = false;

beforeAll(async () => {
  pool = new CodecPool({ threads: 1 });
  tmp = tempDir();
  // A peer that accepts connections and never answers.
  silent = createServer((s) => {
    if (hangUp) s.destroy();
    else sockets.push(s);
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => silent.close(r));
  await pool?.close();
  tmp?.remove();
});

describe('event follower', () => {
  it('keeps applying events while shard recovery waits on a peer, and reports the epoch synced only after recovery', async () => {
    const committee: CommitteeInfo = {
      epoch: 2,
      nShards: n,
      members: [
        { nodeId: me, publicKey: new Uint8Array(48), shards: [9], weight: 1, networkAddress: 'unused', name: 'me' },
        {
          nodeId: '0x' + 'bb'.repeat(32),
          publicKey: new Uint8Array(48),
          shards: [0, 1, 2, 3, 4, 5, 6, 7, 8],
          weight: 9,
          networkAddress: `127.0.0.1:${(silent.address() as { port: number }).port}`,
          name: 'silent',
        },
      ],
    };
    const log: ChainEventEnvelope[] = [];
    const emit = (event: ChainEvent) =>
      log.push({ id: { txDigest: `tx${log.length}`, eventSeq: 0 }, cursor: String(log.length), timestampMs: 0, event });
    const synced: number[] = [];
    const chain = {
      async events(o: { cursor?: string | null; limit?: number }) {
        const from = o.cursor == null ? 0 : Number(o.cursor) + 1;
        const events = log.slice(from, from + (o.limit ?? 500));
        return { events, nextCursor: events.length ? events[events.length - 1].cursor : (o.cursor ?? null) };
      },
      async committee() {
        return committee;
      },
      async systemState() {
        return { epoch: 2, epochState: 'changeSync', nShards: n, committee };
      },
      async epochSyncDone(_signer: unknown, nodeId: string, epoch: number) {
        expect(nodeId).toBe(me);
        synced.push(epoch);
      },
    } as unknown as Chain;

    const store = NodeStore.open(join(tmp.dir, 'node.db'));
    const expander = new PoolExpander(pool);
    const service = new NodeService(store, expander, generateBlsKeyPair(new Uint8Array(32).fill(3)));
    service.setShardCount(n);
    const errors: unknown[] = [];
    const follower = new EventFollower({
      chain,
      store,
      service,
      nodeId: () => me,
      signer: Ed25519Keypair.generate(),
      recoveryTimeoutMs: 60_000,
      recoveryAttempts: 1,
      onError: (e) => errors.push(e),
    });
    try {
      // A certified blob this node must rebuild a sliver pair of (its metadata is already here).
      const old = encodeBlob(randomBytes(4000, 51), { nShards: n });
      emit({
        type: 'BlobCertified',
        epoch: 1,
        blobId: old.blobId,
        endEpoch: 9,
        deletable: false,
        objectId: '0x' + '01'.repeat(32),
        isExtension: false,
      });
      emit({ type: 'EpochChangeStart', epoch: 2, shardMoves: [] });
      store.putMetadata(old.blobId, new Uint8Array(old.metadata.toBcs()));
      expect(await follower.syncOnce(0)).toBe(2);
      expect(store.currentEpoch()).toBe(2);
      // Recovery is now waiting on the silent peer. A new registration is applied at once.
      const fresh = encodeBlob(randomBytes(100, 52), { nShards: n });
      emit({
        type: 'BlobRegistered',
        epoch: 2,
        blobId: fresh.blobId,
        size: 100,
        encodingType: 1,
        endEpoch: 5,
        deletable: false,
        objectId: '0x' + '02'.repeat(32),
      });
      const t0 = Date.now();
      expect(await follower.syncOnce(0)).toBe(1);
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(store.isRegistered(fresh.blobId, 2)).toBe(true);
      await new Promise((r) => setTimeout(r, 100));
      expect(synced).toEqual([]); // not synced while recovery runs
      expect(store.getValue('recovered_epoch')).toBeNull();
      // The peer hangs up: the (single) recovery run ends with failures, then the epoch is reported.
      await new Promise((r) => setTimeout(r, 100));
      expect(sockets.length).toBeGreaterThan(0);
      hangUp = true;
      for (const s of sockets) s.destroy();
      await follower.recovered();
      expect(synced).toEqual([2]);
      expect(store.getValue('recovered_epoch')).toBe('2');
      expect(errors.some((e) => /could not be recovered/.test(String((e as Error).message)))).toBe(true);
    } finally {
      await follower.stop();
      service.close();
      expander.close();
      store.close();
    }
  });
});
