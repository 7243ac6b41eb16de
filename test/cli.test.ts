/** The `tusk` CLI as a user runs it: a real process, real files. */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync, readFileSync, readdirSync, unlinkSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { officialBlobId, blobIdToBase64Url } from './helpers/official.ts';
import { runTusk } from './helpers/cli.ts';


const tusk = runTusk;

describe('tusk blob-id', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tusk-cli-'));
  const file = join(dir, 'blob.bin');
  const data = new Uint8Array(123_457).map((_, i) => (i * 31 + 7) & 0xff);
  writeFileSync(file, data);

  it('prints the same blob ID as the official encoder, alone on stdout', async () => {
    const r = await tusk(['blob-id', file, '--n-shards', '100']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(blobIdToBase64Url(officialBlobId(data, 100)) + '\n');
  });

  it('--json prints the documented fields', async () => {
    const r = await tusk(['blob-id', file, '--n-shards', '10', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j)).toEqual(['blobId', 'rootHash', 'unencodedLength', 'encodingType', 'symbolSize', 'nShards']);
    expect(j).toMatchObject({ unencodedLength: 123_457, encodingType: 'RS2', nShards: 10, symbolSize: 4410 });
    expect(j.blobId).toBe(blobIdToBase64Url(officialBlobId(data, 10)));
    expect(j.rootHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('defaults to 1000 shards', async () => {
    const small = join(dir, 'small.bin');
    writeFileSync(small, data.subarray(0, 100));
    const r = await tusk(['blob-id', small]);
    expect(r.stdout.trim()).toBe(blobIdToBase64Url(officialBlobId(data.subarray(0, 100), 1000)));
  });

  it('reports bad input on stderr with a non-zero exit', async () => {
    const missing = await tusk(['blob-id', join(dir, 'missing.bin')]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(/no such file/);
    const tooFew = await tusk(['blob-id', file, '--n-shards', '0']);
    expect(tooFew.code).toBe(1);
    expect(tooFew.stderr).toMatch(/n_shards/);
    const big = join(dir, 'big.bin');
    writeFileSync(big, new Uint8Array(6 * 65534 + 1)); // n = 4 allows k_p·k_s·65534 = 393204 bytes
    const tooBig = await tusk(['blob-id', big, '--n-shards', '4']);
    expect(tooBig.code).toBe(1);
    expect(tooBig.stderr).toMatch(/exceeds the maximum/);
    const usage = await tusk(['blob-id']);
    expect(usage.code).toBe(2);
    const notNumber = await tusk(['blob-id', file, '--n-shards', 'ten']);
    expect(notNumber.code).toBe(2);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));
});

describe('tusk encode / decode', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tusk-spool-'));
  const file = join(dir, 'blob.bin');
  const data = new Uint8Array(200_001).map((_, i) => (i * 7919 + (i >> 8)) & 0xff);
  writeFileSync(file, data);
  const spool = join(dir, 'spool');

  it('encode writes the documented layout and prints the blob ID', async () => {
    const r = await tusk(['encode', file, '--n-shards', '10', '--out', spool, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ blobId: blobIdToBase64Url(officialBlobId(data, 10)), nShards: 10, slivers: 20, out: spool });
    expect(readdirSync(spool).sort()).toEqual(['blob.json', 'metadata.bcs', 'primary', 'secondary']);
    expect(readdirSync(join(spool, 'primary'))).toHaveLength(10);
    expect(JSON.parse(readFileSync(join(spool, 'blob.json'), 'utf8')).blobId).toBe(j.blobId);
    const again = await tusk(['encode', file, '--n-shards', '10', '--out', spool]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists/);
  });

  it('decode rebuilds the file from what is left, warning about bad slivers', async () => {
    // n = 10: k_p = 4. Keep primary slivers 5…9, corrupt 5, delete every secondary sliver.
    for (let i = 0; i < 5; i++) unlinkSync(join(spool, 'primary', `${i}.bcs`));
    for (const f of readdirSync(join(spool, 'secondary'))) unlinkSync(join(spool, 'secondary', f));
    const bad = readFileSync(join(spool, 'primary', '5.bcs'));
    bad[10] ^= 0x40;
    writeFileSync(join(spool, 'primary', '5.bcs'), bad);
    const out = join(dir, 'decoded.bin');
    const r = await tusk(['decode', spool, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: ignoring primary sliver 5: Merkle root/);
    expect(readFileSync(out)).toEqual(Buffer.from(data));
  });

  it('decode fails cleanly, leaving no output, when too few slivers remain', async () => {
    unlinkSync(join(spool, 'primary', '6.bcs'));
    const out = join(dir, 'never.bin');
    const r = await tusk(['decode', spool, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not enough valid slivers/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));
});

describe('tusk with --encoding rs8', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tusk-rs8-'));
  const file = join(dir, 'blob.bin');
  const data = new Uint8Array(50_001).map((_, i) => (i * 131 + 7) & 0xff);
  writeFileSync(file, data);

  it('blob-id, encode and decode round-trip; a committee too large for GF(2^8) is a clear error', async () => {
    const id = await tusk(['blob-id', file, '--encoding', 'rs8', '--n-shards', '31', '--json']);
    expect(id.code).toBe(0);
    expect(JSON.parse(id.stdout)).toMatchObject({ encodingType: 'RS8', nShards: 31, symbolSize: 217 }) // ⌈50001 / (11·21)⌉, odd: alignment 1;
    const spool = join(dir, 'spool');
    const enc = await tusk(['encode', file, '--encoding', 'rs8', '--n-shards', '31', '--out', spool]);
    expect(enc.stdout.trim()).toBe(JSON.parse(id.stdout).blobId);
    for (let i = 0; i < 11; i++) unlinkSync(join(spool, 'primary', `${i}.bcs`));
    const out = join(dir, 'out.bin');
    expect((await tusk(['decode', spool, '--out', out])).code).toBe(0);
    expect(readFileSync(out)).toEqual(Buffer.from(data));
    const tooBig = await tusk(['blob-id', file, '--encoding', 'rs8', '--n-shards', '1000']);
    expect(tooBig.code).toBe(1);
    expect(tooBig.stderr).toMatch(/RS8 supports n_shards ≤ 195/);
    expect((await tusk(['blob-id', file, '--encoding', 'rs3'])).stderr).toMatch(/unknown encoding/);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));
});
