/**
 * RS8 (GF(2^8) RedStuff, encoding type 127) through the whole system on a real local network of
 * processes (chain + 4 nodes, 100 shards ≤ RS8's 195): stored through the client, priced by the
 * chain from RS8's encoded length, verified and served by the nodes, read back with the encoding
 * taken from the metadata — also with f shards' node stopped — and side by side with RS2 blobs on
 * the same network. The CLI's `store --encoding rs8` and its refusal on a committee too large for
 * RS8 run as processes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { startTestNetwork, type TestNetwork } from './test-network.ts';
import type { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import type { DevNetwork } from '../../src/network/dev-network.ts';
import type { RemoteChain } from '../../src/chain/remote/client.ts';
import { LocalChain } from '../../src/chain/local/index.ts';
import { storeBlob, storageCost } from '../../src/client/store-blob.ts';
import { readBlob } from '../../src/client/read-blob.ts';
import { computeBlobMetadata } from '../../src/codec/encode.ts';
import { EncodingConfig } from '../../src/codec/config.ts';
import type { CodecPool } from '../../src/pool/codec-pool.ts';
import { ChainAbortError, TuskInputError } from '../../src/errors.ts';
import { randomBytes } from '../helpers/blobs.ts';
import { runTusk } from '../helpers/cli.ts';

const N_SHARDS = 100;
let net: DevNetwork;
let dir: string;
let chain: RemoteChain;
let wallet: Ed25519Keypair;
let pool: CodecPool;

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let testNet: TestNetwork;

beforeAll(async () => {
  testNet = await startTestNetwork('tusk-rs8-', { nShards: N_SHARDS });
  ({ net, dir, chain, wallet, pool } = testNet);
}, 180_000);

afterAll(() => testNet?.stop());

describe('RS8 end to end on a network of processes', () => {
  for (const [label, size] of [
    ['0 B', 0],
    ['1 B', 1],
    ['1 MiB', 1 << 20],
    ['20 MiB', 20 << 20],
  ] as const) {
    it(`stores and reads back an RS8 blob of ${label}; the chain charges RS8's encoded length`, async () => {
      const data = randomBytes(size, size + 801);
      const state = await chain.systemState();
      const before = await chain.balance(wallet.toSuiAddress());
      const stored = await storeBlob(data, { chain, signer: wallet, epochs: 2, encoding: 'rs8', pool });
      expect(stored.blobId).toBe(computeBlobMetadata(data, { nShards: N_SHARDS, encoding: 'rs8' }).blobIdString);
      const expectedCost = storageCost(size, 2, N_SHARDS, state.storagePricePerUnitSize, state.writePricePerUnitSize, 'RS8');
      expect(stored.cost).toBe(expectedCost);
      expect(before - (await chain.balance(wallet.toSuiAddress()))).toBe(expectedCost);
      const blob = await chain.getBlob(stored.blobObjectId);
      expect(blob?.encodingType).toBe(127);
      expect(blob?.certifiedEpoch).not.toBeNull();
      expect((await stored.background).confirmedNodes).toBe(4);
      expect(sha(await readBlob(stored.blobId, { chain, pool }))).toBe(sha(data));
    }, 120_000);
  }

  it('RS2 and RS8 blobs of the same bytes live side by side (different blob IDs) and read back with f shards down', async () => {
    const data = randomBytes(300_000, 77);
    const rs2 = await storeBlob(data, { chain, signer: wallet, epochs: 2, pool });
    const rs8 = await storeBlob(data, { chain, signer: wallet, epochs: 2, encoding: 'rs8', pool });
    expect(rs8.blobId).not.toBe(rs2.blobId);
    await Promise.all([rs2.background, rs8.background]);
    // One node of four holds 25 shards ≤ f = 33.
    await net.stopNode(1);
    try {
      for (const r of [rs2, rs8]) expect(sha(await readBlob(r.blobId, { chain, pool, nodeTimeoutMs: 5000, retries: 0 }))).toBe(sha(data));
      const more = randomBytes(200_000, 78);
      const r = await storeBlob(more, { chain, signer: wallet, epochs: 2, encoding: 'rs8', pool, retries: 1, nodeTimeoutMs: 5000 });
      expect((await chain.getBlob(r.blobObjectId))?.certifiedEpoch).not.toBeNull();
      expect((await r.background).failedNodes).toHaveLength(1);
      expect(sha(await readBlob(r.blobId, { chain, pool, nodeTimeoutMs: 5000, retries: 0 }))).toBe(sha(more));
    } finally {
      await net.startNode(1);
    }
  }, 120_000);

  it('tusk store --encoding rs8 stores through the CLI; read detects the encoding; an unknown encoding is a usage error', async () => {
    const file = join(dir, 'cli-rs8.bin');
    const data = randomBytes(70_000, 79);
    await writeFile(file, data);
    const store = await runTusk(['store', file, '--epochs', '2', '--encoding', 'rs8', '--json', '--config', net.configPath]);
    expect(store.code, store.stderr).toBe(0);
    const out = JSON.parse(store.stdout);
    const blobId: string = out.blobs?.[0]?.blobId ?? out.blobId; // store --json: {"blobs":[…]} (issue 22 item 15)
    expect(blobId).toBe(computeBlobMetadata(data, { nShards: N_SHARDS, encoding: 'rs8' }).blobIdString);
    const outFile = join(dir, 'cli-rs8.out');
    const read = await runTusk(['read', blobId, '--out', outFile, '--config', net.configPath]);
    expect(read.code, read.stderr).toBe(0);
    const bad = await runTusk(['store', file, '--epochs', '2', '--encoding', 'rs9', '--config', net.configPath]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown encoding "rs9"/);
  }, 120_000);
});

describe('RS8 on a committee too large for it', () => {
  it('the chain refuses to price it and the client refuses before encoding', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'tusk-rs8-big-'));
    const big = await LocalChain.open({ path: join(tmp, 'chain.sqlite'), nShards: 200 });
    try {
      const data = randomBytes(1000, 5);
      const meta = computeBlobMetadata(data, { nShards: 100, encoding: 'rs8' });
      const user = wallet;
      await big.requestFaucet(user.toSuiAddress(), 10n ** 12n);
      const err = await big
        .registerBlob(user, {
          storage: { size: new EncodingConfig(100, 'rs8').encodedBlobLength(1000), epochsAhead: 1 },
          blobId: meta.blobId,
          rootHash: meta.rootHash,
          size: 1000,
          encodingType: 127,
          deletable: true,
        })
        .catch((e) => e);
      expect(err).toBeInstanceOf(ChainAbortError);
      expect((err as ChainAbortError).code).toBe('EInvalidEncodingType');
      expect((err as Error).message).toMatch(/RS8 cannot encode for this committee of 200 shards/);
      const refused = await storeBlob(data, { chain: big, signer: user, epochs: 1, encoding: 'rs8' }).catch((e) => e);
      expect(refused).toBeInstanceOf(TuskInputError);
      expect((refused as Error).message).toMatch(/RS8 supports n_shards ≤ 195/);
    } finally {
      await big.close();
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
