/**
 * Walrus CLI parity commands as processes against a real chain server on loopback: set, get and
 * remove blob attributes (Walrus's argument shapes and its `{"attribute": {"metadata": {"contents":
 * …}}}` JSON), burn-blobs (by IDs, --all-expired, the --yes guard), convert-blob-id (Walrus's
 * little-endian decimal).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalChain } from '../../src/chain/local/index.ts';
import { startChainServer, type ChainServer } from '../../src/chain/remote/server.ts';
import { ensureWallet, writeClientConfig } from '../../src/client/client-config.ts';
import { computeBlobMetadata } from '../../src/codec/encode.ts';
import { EncodingConfig } from '../../src/codec/config.ts';
import type { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { randomBytes } from '../helpers/blobs.ts';
import { runTusk } from '../helpers/cli.ts';
import { blobIdFromDecimal } from '../../src/cli/attribute-commands.ts';

const nShards = 10;
let dir: string;
let chain: LocalChain;
let server: ChainServer;
let wallet: Ed25519Keypair;
let config: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tusk-attr-cli-'));
  chain = await LocalChain.open({ path: join(dir, 'chain.sqlite'), nShards });
  server = await startChainServer({ chain, host: '127.0.0.1', port: 0 });
  wallet = await ensureWallet(join(dir, 'wallet.key'));
  config = join(dir, 'client.json');
  await writeClientConfig(config, { chainUrl: server.url, wallet: join(dir, 'wallet.key') });
  await chain.requestFaucet(wallet.toSuiAddress(), 10n ** 15n);
});

afterAll(async () => {
  await server?.close();
  await chain?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function register(seed: number, epochs = 2): Promise<string> {
  const data = randomBytes(1000, seed);
  const m = computeBlobMetadata(data, { nShards });
  const { blob } = await chain.registerBlob(wallet, {
    storage: { size: new EncodingConfig(nShards).encodedBlobLength(1000), epochsAhead: epochs },
    blobId: m.blobId,
    rootHash: m.rootHash,
    size: 1000,
    encodingType: 1,
    deletable: true,
  });
  return blob.id;
}

const tusk = (...args: string[]) => runTusk([...args, '--config', config]);

describe('Walrus CLI parity commands', () => {
  it('set-blob-attribute / get-blob-attribute / remove-blob-attribute-fields / remove-blob-attribute', async () => {
    const id = await register(1);
    let r = await tusk('get-blob-attribute', id, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ attribute: null });
    r = await tusk('set-blob-attribute', id, '--attr', 'contentType', 'image/png', '--attr', 'name', 'a b, c');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Successfully added attribute for blob object ${id}`);
    r = await tusk('get-blob-attribute', id, '--json');
    expect(JSON.parse(r.stdout)).toEqual({
      attribute: {
        metadata: {
          contents: [
            { key: 'contentType', value: 'image/png' },
            { key: 'name', value: 'a b, c' },
          ],
        },
      },
    });
    r = await tusk('remove-blob-attribute-fields', id, '--keys', 'name', 'absent', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect((await chain.getBlob(id))!.attributes).toEqual({ contentType: 'image/png' });
    r = await tusk('remove-blob-attribute', id);
    expect(r.code, r.stderr).toBe(0);
    expect((await chain.getBlob(id))!.attributes).toEqual({});
    // Usage errors: exit 2 with the reason.
    expect((await tusk('set-blob-attribute', id, '--attr', 'lonely')).code).toBe(2);
    expect((await tusk('set-blob-attribute', 'not-an-id', '--attr', 'k', 'v')).code).toBe(2);
    expect((await tusk('remove-blob-attribute-fields', id)).code).toBe(2);
    const other = await tusk('get-blob-attribute', '0x' + 'ab'.repeat(32));
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/no Blob object/);
  });

  it('burn-blobs by object IDs (needs --yes without a terminal) and --all-expired', async () => {
    const a = await register(2);
    const refused = await tusk('burn-blobs', '--object-ids', a);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--yes/);
    expect(await chain.getBlob(a)).not.toBeNull();
    const r = await tusk('burn-blobs', '--object-ids', a, '--yes', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ burned: [a] });
    expect(await chain.getBlob(a)).toBeNull();

    const short = await register(3, 1);
    const long = await register(4, 5);
    await chain.advanceEpoch();
    await chain.advanceEpoch();
    const e = await tusk('burn-blobs', '--all-expired', '--yes', '--json');
    expect(e.code, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout).burned).toContain(short);
    expect(await chain.getBlob(short)).toBeNull();
    expect(await chain.getBlob(long)).not.toBeNull();
    expect((await tusk('burn-blobs', '--all', '--all-expired', '--yes')).code).toBe(2);
  });

  it("convert-blob-id reads Walrus's little-endian decimal", async () => {
    const bytes = new Uint8Array(32).map((_, i) => (i * 37 + 11) & 0xff);
    let decimal = 0n;
    for (let i = 31; i >= 0; i--) decimal = (decimal << 8n) | BigInt(bytes[i]);
    const r = await tusk('convert-blob-id', decimal.toString(), '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toBe(Buffer.from(bytes).toString('base64url'));
    expect(blobIdFromDecimal('1')).toBe('AQ' + 'A'.repeat(41));
    expect((await tusk('convert-blob-id', 'abc')).code).toBe(2);
    expect((await tusk('convert-blob-id', (1n << 256n).toString())).code).toBe(2);
  });
});
