/**
 * Storage challenges end to end on a `tusk dev` network of processes: the chain server's round
 * clock (4 rounds in each 30 s epoch), four node processes answering from their stores over HTTP,
 * and node-1 started with `--fault drop=0.5` (it deletes half of its slivers of certified blobs and
 * never repairs them). In the first epoch where the stored blobs are challengeable, node-1 fails
 * its rounds, loses its reward, is slashed and jailed (left out of the next committee); the honest nodes
 * pass every round and are paid their whole share; stores and reads work throughout.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ChainEvent } from '../../src/chain/types.ts';
import { storeBlob } from '../../src/client/store-blob.ts';
import { readBlob } from '../../src/client/read-blob.ts';
import { randomBytes } from '../helpers/blobs.ts';
import { startTestNetwork, type TestNetwork } from './test-network.ts';

const EPOCH_MS = 30_000;
const DROP = 1;
let tn: TestNetwork;

beforeAll(async () => {
  tn = await startTestNetwork('tusk-chal-', { nodes: 4, nShards: 40, epochDurationMs: EPOCH_MS, faults: new Map([[DROP, { drop: 0.5 }]]) });
}, 120_000);

afterAll(() => tn?.stop());

async function allEvents(): Promise<ChainEvent[]> {
  const out: ChainEvent[] = [];
  let cursor: string | null = null;
  for (;;) {
    const page = await tn.chain.events({ cursor, limit: 1000 });
    out.push(...page.events.map((e) => e.event));
    if (page.events.length < 1000) return out;
    cursor = page.nextCursor;
  }
}

async function waitFor<T>(what: string, ms: number, probe: () => Promise<T | null | undefined | false>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

it('a node that drops slivers loses its reward and is jailed; honest nodes are paid in full; stores and reads go on', async () => {
  const { chain, wallet, pool, net } = tn;
  const opts = { chain, signer: wallet, epochs: 6, pool };
  const blobs = [randomBytes(2_000, 1), randomBytes(30_000, 2), randomBytes(200_000, 3)];
  const stored = [];
  for (const data of blobs) {
    const s = await storeBlob(data, opts);
    await s.background;
    stored.push({ id: s.blobId, data, certifiedEpoch: s.certifiedEpoch });
  }
  // Challengeable from the epoch after certification.
  const X = Math.max(...stored.map((s) => s.certifiedEpoch)) + 1;
  await waitFor(`epoch ${X}`, 2 * EPOCH_MS, async () => (await chain.systemState()).epoch >= X);

  // While epoch X's rounds run, stores and reads keep working.
  const during = randomBytes(50_000, 4);
  const s = await storeBlob(during, opts);
  stored.push({ id: s.blobId, data: during, certifiedEpoch: s.certifiedEpoch });
  for (const b of stored) expect(Buffer.from(await readBlob(b.id, { chain, pool }))).toEqual(Buffer.from(b.data));

  // Epoch X ends (the clock); node-1 is jailed, so the next committee moves its shards and
  // becomes active once the others have recovered them.
  const next = await waitFor(`epoch ${X + 1} active`, 2 * EPOCH_MS + 30_000, async () => {
    const st = await chain.systemState();
    return st.epoch >= X + 1 && st.epochState === 'active' ? st : null;
  });
  const drop = net.nodes[DROP].nodeId;
  const honest = net.nodes.filter((_, i) => i !== DROP).map((n) => n.nodeId);
  expect(next.epoch).toBe(X + 1);
  expect(next.committee.members.map((m) => m.nodeId).sort()).toEqual([...honest].sort());

  const events = await allEvents();
  const results = events.filter((e) => e.type === 'ChallengeResult' && e.epoch === X) as Extract<ChainEvent, { type: 'ChallengeResult' }>[];
  const perf = new Map(
    (events.filter((e) => e.type === 'PerformanceApplied' && e.epoch === X) as Extract<ChainEvent, { type: 'PerformanceApplied' }>[]).map(
      (e) => [e.nodeId, e],
    ),
  );
  const rewards = new Map(
    (events.filter((e) => e.type === 'RewardsDistributed' && e.epoch === X) as Extract<ChainEvent, { type: 'RewardsDistributed' }>[]).map(
      (e) => [e.nodeId, e.amount],
    ),
  );
  // The faulty node: challenged, caught with absent items, its reward withheld, jailed for data loss.
  expect(perf.get(drop)!.scheduled).toBeGreaterThanOrEqual(1);
  expect(perf.get(drop)!.passed).toBe(0);
  expect(perf.get(drop)!.withholdingBps).toBe(10_000);
  expect(results.some((r) => r.nodeId === drop && r.outcome === 'failed' && r.absent > 0)).toBe(true);
  const jail = events.find((e) => e.type === 'NodeJailed' && e.nodeId === drop) as Extract<ChainEvent, { type: 'NodeJailed' }>;
  expect(jail).toMatchObject({ epoch: X, reason: 'dataLoss', untilEpoch: X + 2 });
  expect(rewards.get(drop)).toBe(0n);
  // …and its pool is slashed (stake burnt), no honest pool is.
  const slashed = events.filter((e) => e.type === 'NodeSlashed') as Extract<ChainEvent, { type: 'NodeSlashed' }>[];
  expect(slashed.find((e) => e.nodeId === drop)).toMatchObject({ epoch: X, reason: 'dataLoss' });
  expect(slashed.find((e) => e.nodeId === drop)!.amount).toBeGreaterThan(0n);
  expect(slashed.some((e) => honest.includes(e.nodeId))).toBe(false);
  // Honest nodes: every round passed, nothing withheld, each paid the same full share (equal shards).
  const paid = honest.map((id) => rewards.get(id)!);
  for (const id of honest) {
    expect(perf.get(id)).toMatchObject({ failed: 0, missed: 0, withholdingBps: 0 });
    expect(perf.get(id)!.passed).toBe(perf.get(id)!.scheduled);
    expect(perf.get(id)!.scheduled).toBeGreaterThanOrEqual(1);
  }
  expect(paid[0]).toBeGreaterThan(0n);
  for (const p of paid) expect(p === paid[0] || p === paid[0] + 1n || p === paid[0] - 1n).toBe(true);
  expect(events.some((e) => e.type === 'NodeJailed' && honest.includes(e.nodeId))).toBe(false);

  // The nodes' own view (health): honest ones passed, the faulty one failed.
  const health = async (i: number) =>
    ((await (await fetch(`${net.nodes[i].url}/v1/health`)).json()) as { success: { data: { challenges: Record<string, number> } } }).success
      .data.challenges;
  expect(await health(0)).toMatchObject({ failed: 0, missed: 0 });
  expect((await health(0)).passed).toBeGreaterThanOrEqual(1);
  expect((await health(DROP)).failed).toBeGreaterThanOrEqual(1);

  // After the jail: everything stored reads back, and a new store works on the smaller committee.
  const after = randomBytes(40_000, 5);
  const s2 = await storeBlob(after, opts);
  stored.push({ id: s2.blobId, data: after, certifiedEpoch: s2.certifiedEpoch });
  for (const b of stored) expect(Buffer.from(await readBlob(b.id, { chain, pool }))).toEqual(Buffer.from(b.data));
}, 240_000);
