/**
 * Test helper: a `tusk dev` network of processes (chain server + storage nodes on loopback) in a
 * private temporary directory, with the client's view of it — a RemoteChain, the funded wallet and
 * a one-thread codec pool. `stop()` ends every process and removes the directory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { startDevNetwork, type DevNetwork, type DevNetworkOptions } from '../../src/network/dev-network.ts';
import { RemoteChain } from '../../src/chain/remote/client.ts';
import { loadWallet } from '../../src/client/client-config.ts';
import { CodecPool } from '../../src/pool/codec-pool.ts';

/** A running test network and the client's handles on it. */
export interface TestNetwork {
  readonly net: DevNetwork;
  readonly dir: string;
  readonly chain: RemoteChain;
  readonly wallet: Ed25519Keypair;
  readonly pool: CodecPool;
  stop(): Promise<void>;
}

/** Starts `nodes` node processes (default 4) holding `nShards` shards (default 100). */
export async function startTestNetwork(
  prefix: string,
  o: { nodes?: number; nShards?: number } & Pick<DevNetworkOptions, 'epochDurationMs' | 'faults' | 'challenges'> = {},
): Promise<TestNetwork> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  let net: DevNetwork | undefined;
  try {
    net = await startDevNetwork({
      dataDir: dir,
      nodes: o.nodes ?? 4,
      nShards: o.nShards ?? 100,
      epochDurationMs: o.epochDurationMs,
      faults: o.faults,
      challenges: o.challenges,
    });
    const chain = new RemoteChain({ url: net.chainUrl });
    const wallet = await loadWallet(join(dir, 'wallet.key'));
    const pool = new CodecPool({ threads: 1 });
    const started = net;
    return {
      net: started,
      dir,
      chain,
      wallet,
      pool,
      async stop() {
        await pool.close();
        await started.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await net?.stop();
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}
