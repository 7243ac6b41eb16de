/**
 * Walrus CLI parity for the system views, as a user runs them against a `tusk dev` network of
 * processes (4 nodes, 20 shards): `tusk health` (Walrus's JSON shape, node selection, sorting, a
 * node killed shows as an error row and exit 1), `tusk info <section>` (Walrus's section names and
 * fields, BFT figures for n = 20) and the `list-blobs` filters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTusk } from '../helpers/cli.ts';
import { randomBytes } from '../helpers/blobs.ts';
import { startTestNetwork, type TestNetwork } from './test-network.ts';

let t: TestNetwork;
let config: string;
const tusk = (args: string[]) => runTusk([...args, '--config', config]);

beforeAll(async () => {
  t = await startTestNetwork('tusk-health-', { nodes: 4, nShards: 20 });
  config = t.net.configPath;
}, 180_000);

afterAll(async () => {
  await t?.stop();
});

interface HealthRow {
  nodeId: string | null;
  nodeUrl: string;
  nodeName: string;
  networkPublicKey: null;
  healthInfo: { Ok?: Record<string, any>; Err?: string };
}

describe('tusk health', () => {
  it('reports every committee node with Walrus’s JSON shape and shard status', async () => {
    const r = await tusk(['health', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { healthInfo: HealthRow[]; latestSeq: null };
    expect(Object.keys(out).sort()).toEqual(['healthInfo', 'latestSeq']);
    expect(out.healthInfo).toHaveLength(4);
    expect(new Set(out.healthInfo.map((h) => h.nodeId))).toEqual(new Set(t.net.nodes.map((n) => n.nodeId)));
    let owned = 0;
    for (const h of out.healthInfo) {
      expect(h.healthInfo.Ok, JSON.stringify(h)).toBeDefined();
      const info = h.healthInfo.Ok!;
      expect(info.nodeStatus).toBe('Active');
      expect(info.epoch).toBeGreaterThanOrEqual(1);
      expect(info.shardSummary.ownedShardStatus.ready).toBe(info.shardSummary.owned);
      expect(info.shardDetail).toBeUndefined();
      owned += info.shardSummary.owned;
    }
    expect(owned).toBe(20);
    const human = await tusk(['health']);
    expect(human.stdout).toMatch(/4 of 4 node\(s\) answered/);
    expect(human.stdout).toMatch(/Active/);
  });

  it('selects nodes by ID or URL, sorts, and adds the shard detail with --detail', async () => {
    const [a, b] = t.net.nodes;
    const byId = JSON.parse((await tusk(['health', '--node-ids', b.nodeId, a.nodeId, '--sort-by', 'name', '--detail', '--json'])).stdout);
    expect(byId.healthInfo.map((h: HealthRow) => h.nodeName)).toEqual([a.name, b.name].sort());
    const detail = byId.healthInfo[0].healthInfo.Ok;
    expect(detail.shardDetail.owned.length).toBe(detail.shardSummary.owned);
    expect(detail.shardDetail.owned.every((s: { status: string }) => s.status === 'ready')).toBe(true);
    const desc = JSON.parse((await tusk(['health', '--sort-by', 'name', '--desc', '--json'])).stdout);
    expect(desc.healthInfo.map((h: HealthRow) => h.nodeName)).toEqual(
      t.net.nodes
        .map((n) => n.name)
        .sort()
        .reverse(),
    );
    const byUrl = JSON.parse((await tusk(['health', '--node-urls', a.url, '--json'])).stdout);
    expect(byUrl.healthInfo).toHaveLength(1);
    expect(byUrl.healthInfo[0].nodeId).toBe(a.nodeId);
  });

  it('usage errors exit 2', async () => {
    for (const args of [
      ['health', '--committee', '--node-ids', t.net.nodes[0].nodeId],
      ['health', '--sort-by', 'size'],
      ['health', '--node-ids'],
      ['health', '--node-ids', 'zz'],
      ['health', 'extra'],
      ['health', '--concurrent-requests', '0'],
    ]) {
      const r = await tusk(args);
      expect(r.code, args.join(' ')).toBe(2);
    }
  });

  it('a killed node is an error row (sorted last) and the exit code is 1', async () => {
    await t.net.stopNode(2, 'SIGKILL');
    try {
      const r = await tusk(['health', '--json', '--timeout-ms', '3000']);
      expect(r.code).toBe(1);
      const rows = JSON.parse(r.stdout).healthInfo as HealthRow[];
      expect(rows).toHaveLength(4);
      expect(rows[3].nodeId).toBe(t.net.nodes[2].nodeId);
      expect(rows[3].healthInfo.Err).toMatch(/failed to get health info/);
      expect(rows.slice(0, 3).every((h) => h.healthInfo.Ok !== undefined)).toBe(true);
      expect((await tusk(['health', '--timeout-ms', '3000'])).stdout).toMatch(/UNREACHABLE/);
    } finally {
      await t.net.startNode(2);
    }
    expect((await tusk(['health'])).code).toBe(0);
  });
});

describe('tusk info sections', () => {
  it('prints each Walrus section under its name, with n = 20 figures', async () => {
    const all = JSON.parse((await tusk(['info', 'all', '--json'])).stdout);
    // Walrus's six sections, and Tusk's challengeInfo (storage challenges, a Tusk chain only).
    expect(Object.keys(all).sort()).toEqual([
      'bftInfo',
      'challengeInfo',
      'committeeInfo',
      'epochInfo',
      'priceInfo',
      'sizeInfo',
      'storageInfo',
    ]);
    expect(all.challengeInfo).toMatchObject({ epoch: expect.any(Number), jailed: [], slashed: '0' });
    expect(all.bftInfo).toEqual({
      maxFaultyShards: 6,
      minCorrectShards: 14,
      quorumThreshold: 13,
      minNodesAbove: expect.any(Number),
      shardsAbove: expect.any(Number),
    });
    expect(all.bftInfo.shardsAbove).toBeGreaterThan(6);
    expect(all.storageInfo).toEqual({ nShards: 20, nNodes: 4 });
    expect(all.sizeInfo.storageUnitSize).toBe(1_048_576);
    expect(all.committeeInfo.storageNodes).toHaveLength(4);
    expect(all.committeeInfo.storageNodes.reduce((s: number, n: { nShards: number }) => s + n.nShards, 0)).toBe(20);
    expect(BigInt(all.committeeInfo.storageNodes[0].stake)).toBeGreaterThan(0n);
    expect(all.priceInfo.encodingDependentPriceInfo.map((p: { encodingType: string }) => p.encodingType)).toEqual(['RS2', 'RS8']);

    const epoch = await tusk(['info', 'epoch', '--json']);
    expect(epoch.code, epoch.stderr).toBe(0);
    const e = JSON.parse(epoch.stdout);
    expect(Object.keys(e).sort()).toEqual(['currentEpoch', 'epochDuration', 'maxEpochsAhead', 'startOfCurrentEpoch']);
    expect(Date.parse(e.startOfCurrentEpoch.DateTime)).toBeGreaterThan(0);
    expect(JSON.parse((await tusk(['info', 'bft', '--json'])).stdout)).toEqual(all.bftInfo);

    // The default keeps Tusk's summary and adds Walrus's four default sections.
    const def = JSON.parse((await tusk(['info', '--json'])).stdout);
    expect(def.nShards).toBe(20);
    expect(def.epochInfo.currentEpoch).toBe(def.epoch);
    expect(def.committeeInfo).toBeUndefined();
    expect((await tusk(['info', 'price'])).stdout).toMatch(/^Price: storage/);
    expect((await tusk(['info', 'nope'])).code).toBe(2);
    expect((await tusk(['info', 'epoch', 'bft'])).code).toBe(2);
  });
});

describe('list-blobs filters', () => {
  it('filter by certification, deletability, blob ID, size and end epoch', async () => {
    const small = join(t.dir, 'small.bin');
    const big = join(t.dir, 'big.bin');
    writeFileSync(small, randomBytes(1000, 1));
    writeFileSync(big, randomBytes(50_000, 2));
    const s1 = await tusk(['store', small, '--epochs', '2', '--deletable', '--json']);
    expect(s1.code, s1.stderr).toBe(0);
    const s2 = await tusk(['store', big, '--epochs', '4', '--permanent', '--json']);
    expect(s2.code, s2.stderr).toBe(0);
    const smallId = JSON.parse(s1.stdout).blobs[0].blobId as string;
    const bigId = JSON.parse(s2.stdout).blobs[0].blobId as string;
    const list = async (...args: string[]) => {
      const r = await tusk(['list-blobs', ...args, '--json']);
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout).blobs as { blobId: string }[]).map((b) => b.blobId).sort();
    };
    expect(await list()).toEqual([smallId, bigId].sort());
    expect(await list('--deletable')).toEqual([smallId]);
    expect(await list('--permanent')).toEqual([bigId]);
    expect(await list('--certified')).toEqual([smallId, bigId].sort());
    expect(await list('--registered')).toEqual([]);
    expect(await list('--blob-id', bigId)).toEqual([bigId]);
    expect(await list('--min-size', '1001')).toEqual([bigId]);
    expect(await list('--max-size', '1000')).toEqual([smallId]);
    const endSmall = JSON.parse((await tusk(['list-blobs', '--deletable', '--json'])).stdout).blobs[0].endEpoch as number;
    expect(await list('--expires-before', String(endSmall + 1))).toEqual([smallId]);
    for (const bad of [
      ['--deletable', '--permanent'],
      ['--certified', '--registered'],
      ['--min-size', '-1'],
      ['--blob-id', 'x'],
    ]) {
      expect((await tusk(['list-blobs', ...bad])).code, bad.join(' ')).toBe(2);
    }
  });
});
