/**
 * `tusk health`, `tusk info [section]` and the `list-blobs` filters against a `tusk dev` network
 * of processes (4 nodes, 20 shards): Walrus's JSON names and shapes, a killed node reported as
 * down while the others answer, and the filters of list-blobs over real Blob objects.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestNetwork, type TestNetwork } from './test-network.ts';
import { runTusk } from '../helpers/cli.ts';
import { randomBytes } from '../helpers/blobs.ts';

let t: TestNetwork;
let config: string;
const tusk = (...args: string[]) => runTusk([...args, '--config', config]);

beforeAll(async () => {
  t = await startTestNetwork('tusk-health-', { nodes: 4, nShards: 20 });
  config = t.net.configPath;
}, 180_000);
afterAll(async () => t?.stop());

describe('info sections', () => {
  it('info --json keeps Tusk fields and adds the Walrus sections', async () => {
    const r = await tusk('info', '--json');
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.nShards).toBe(20);
    expect(j.epochInfo).toMatchObject({ currentEpoch: j.epoch, maxEpochsAhead: j.maxEpochsAhead });
    expect(j.epochInfo.startOfCurrentEpoch.DateTime).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(j.storageInfo).toEqual({ nShards: 20, nNodes: 4 });
    expect(j.sizeInfo).toEqual({ storageUnitSize: 1_048_576, maxBlobSize: j.maxBlobSize });
    expect(j.priceInfo.storagePricePerUnitSize).toBe(Number(j.storagePricePerUnitSize));
    expect(j.priceInfo.encodingDependentPriceInfo.map((e: { encodingType: string }) => e.encodingType)).toEqual(['RS2', 'RS8']);
    expect(j.committeeInfo).toBeUndefined();
  });

  it('info all adds committee and bft; a section alone prints just it', async () => {
    const all = JSON.parse((await tusk('info', 'all', '--json')).stdout);
    expect(all.committeeInfo.storageNodes).toHaveLength(4);
    expect(all.committeeInfo.storageNodes.reduce((s: number, n: { nShards: number }) => s + n.nShards, 0)).toBe(20);
    expect(all.committeeInfo).toMatchObject({ nShards: 20, nPrimarySourceSymbols: 8, nSecondarySourceSymbols: 14 });
    // 20 shards: f = 6, quorum 13; with 5 shards a node, two nodes hold more than f.
    expect(all.bftInfo).toEqual({ maxFaultyShards: 6, minCorrectShards: 14, quorumThreshold: 13, minNodesAbove: 2, shardsAbove: 10 });
    const bft = await tusk('info', 'bft', '--json');
    expect(JSON.parse(bft.stdout)).toEqual(all.bftInfo);
    const epoch = await tusk('info', 'epoch');
    expect(epoch.stdout).toMatch(/Current epoch: \d+/);
    const bad = await tusk('info', 'nope');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown info section "nope"/);
  });
});

describe('health', () => {
  it('every committee node answers, in Walrus shape; --detail adds shard detail', async () => {
    const r = await tusk('health', '--json');
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.latestSeq).toBeNull();
    expect(j.healthInfo).toHaveLength(4);
    for (const n of j.healthInfo) {
      expect(n.healthInfo.Ok.nodeStatus).toBe('Active');
      expect(Object.keys(n)).toEqual(['nodeId', 'nodeUrl', 'nodeName', 'networkPublicKey', 'healthInfo']);
    }
    expect(j.summary).toMatchObject({ nodes: 4, answering: 4, shardsOwned: 20 });
    const d = JSON.parse((await tusk('health', '--detail', '--sort-by', 'name', '--json')).stdout);
    expect(d.healthInfo.map((n: { nodeName: string }) => n.nodeName)).toEqual(['node-0', 'node-1', 'node-2', 'node-3']);
    expect(d.healthInfo[0].healthInfo.Ok.shardDetail.owned.length).toBeGreaterThan(0);
    const one = JSON.parse((await tusk('health', '--node-ids', t.net.nodes[2].nodeId, '--json')).stdout);
    expect(one.healthInfo.map((n: { nodeName: string }) => n.nodeName)).toEqual(['node-2']);
  });

  it('a killed node is reported down (last), the others still answer', async () => {
    await t.net.stopNode(1, 'SIGKILL');
    try {
      const r = await tusk('health', '--json');
      expect(r.code, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout);
      expect(j.summary.answering).toBe(3);
      const last = j.healthInfo[3];
      expect(last.nodeName).toBe('node-1');
      expect(last.healthInfo.Err).toMatch(/failed to get health info/);
      const text = await tusk('health');
      expect(text.stdout).toMatch(/3 of 4 nodes answering/);
      expect(text.stdout).toMatch(/node-1 .*DOWN/);
    } finally {
      await t.net.startNode(1);
    }
  });

  it('flags: conflicting selections and a bad --sort-by are usage errors', async () => {
    expect((await tusk('health', '--committee', '--all-nodes')).code).toBe(2);
    expect((await tusk('health', '--sort-by', 'size')).code).toBe(2);
  });
});

describe('list-blobs filters', () => {
  it('--deletable/--permanent, --certified, --blob-id', async () => {
    const a = join(t.dir, 'a.bin'),
      b = join(t.dir, 'b.bin');
    writeFileSync(a, randomBytes(1000, 1));
    writeFileSync(b, randomBytes(1000, 2));
    const sa = JSON.parse((await tusk('store', a, '--epochs', '2', '--permanent', '--json')).stdout).blobs[0];
    const sb = JSON.parse((await tusk('store', b, '--epochs', '2', '--deletable', '--json')).stdout).blobs[0];
    const list = async (...f: string[]) =>
      JSON.parse((await tusk('list-blobs', ...f, '--json')).stdout).blobs.map((x: { blobId: string }) => x.blobId);
    expect(await list('--permanent')).toEqual([sa.blobId]);
    expect(await list('--deletable')).toEqual([sb.blobId]);
    expect((await list('--certified')).sort()).toEqual([sa.blobId, sb.blobId].sort());
    expect(await list('--uncertified')).toEqual([]);
    expect(await list('--blob-id', sb.blobId)).toEqual([sb.blobId]);
    expect((await tusk('list-blobs', '--deletable', '--permanent')).code).toBe(2);
  }, 300_000); // nine CLI processes: a minute on an idle machine, more on a loaded one
});
