/**
 * Test helper: an in-process network — the LocalChain (real SQLite file) and N real storage nodes
 * (SQLite stores, HTTP on 127.0.0.1) on one codec pool, advanced into an epoch with a committee,
 * and a funded user wallet. `start(i)` (re)starts node i on its data directory, so tests can stop
 * and restart nodes; `close()` stops everything and removes the directory.
 */
import { join } from 'node:path';
import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { LocalChain } from '../../src/chain/local/index.ts';
import type { ChallengeParams } from '../../src/chain/local/challenges.ts';
import { CodecPool } from '../../src/pool/codec-pool.ts';
import { startStorageNode, type StorageNodeHandle, type StorageNodeOptions } from '../../src/node/node.ts';
import { tempDir } from './helpers.ts';

/** A running in-process network. */
export interface LocalNetwork {
  readonly dir: string;
  readonly chain: LocalChain;
  readonly pool: CodecPool;
  /** The nodes by index (replaced in place by `start`). */
  readonly nodes: StorageNodeHandle[];
  /** A funded wallet (1,000,000 WAL). */
  readonly user: Ed25519Keypair;
  /** Starts node `i` on its data directory (a restart keeps its keys and store); `extra` adds options for this start. */
  start(i: number, extra?: Partial<StorageNodeOptions>): Promise<StorageNodeHandle>;
  close(): Promise<void>;
}

/**
 * Starts `nodes` nodes for an `nShards` committee; `nodeOptions` are passed to every node.
 * Post: the chain is in an epoch whose committee holds the nodes, and every node has synced it.
 */
export async function startLocalNetwork(o: {
  nShards: number;
  nodes: number;
  nodeOptions?: Partial<StorageNodeOptions>;
  /** Options of every node by index (after `nodeOptions`). */
  perNode?: (i: number) => Partial<StorageNodeOptions>;
  /** The chain's storage-challenge parameters (genesis). */
  challenges?: Partial<ChallengeParams>;
}): Promise<LocalNetwork> {
  const tmp = tempDir();
  const pool = new CodecPool({ threads: 1 });
  const chain = await LocalChain.open({ path: join(tmp.dir, 'chain.sqlite'), nShards: o.nShards, challenges: o.challenges });
  const nodes: StorageNodeHandle[] = [];
  const start = async (i: number, extra?: Partial<StorageNodeOptions>) =>
    (nodes[i] = await startStorageNode({
      chain,
      dataDir: join(tmp.dir, `node-${i}`),
      name: `node-${i}`,
      pool,
      eventWaitMs: 20,
      stake: BigInt(1000 + i) * 1_000_000_000n,
      ...o.nodeOptions,
      ...o.perNode?.(i),
      ...extra,
    }));
  for (let i = 0; i < o.nodes; i++) await start(i);
  await chain.advanceEpoch();
  for (const n of nodes) await n.sync();
  const user = Ed25519Keypair.generate();
  await chain.requestFaucet(user.toSuiAddress(), 1_000_000n * 1_000_000_000n);
  return {
    dir: tmp.dir,
    chain,
    pool,
    nodes,
    user,
    start,
    async close() {
      for (const n of nodes) await n.close();
      await chain.close();
      await pool.close();
      tmp.remove();
    },
  };
}
