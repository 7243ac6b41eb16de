/**
 * Chaos soak (issue 23): a `tusk dev` network of processes under sustained load while faults arrive
 * at random, then a Jepsen-style check that every acknowledged write survived.
 *
 *   npm run soak -- --minutes 30 --seed 7 [--nodes 7] [--n-shards 70] [--concurrency 3]
 *                   [--max-size-mib 32] [--max-epochs 4] [--report soak-report.json] [--keep]
 *
 * Load: `concurrency` workers store random blobs (0 B…max, log-uniform so most are small, 1–max-epochs
 * epochs, deletable or permanent), read acknowledged ones back (SHA-256 compared), delete
 * deletable ones and extend others. Only what the client acknowledged (storeBlob resolved) is
 * tracked; the data is regenerated from its seed, never kept in memory.
 *
 * Faults, one at a time every 8–30 s, never more than f shards down at once (a killed or stopped
 * node counts as down for all its shards): SIGKILL a node and restart it after 3–20 s; SIGSTOP a
 * node for 3–15 s (a stall), then SIGCONT; SIGKILL the chain server and restart it; stake WAL on
 * a random node and advance the epoch (the committee's shards move with the stake).
 *
 * Checks at the end, after the faults stop: (1) every node of the committee holds both slivers of
 * every pair it is assigned for every live acknowledged blob (nodes recover on their own; we wait
 * up to 10 minutes); (2) every live acknowledged blob reads back byte-identical, (3) again after
 * stopping and restarting the whole network; (4) no acknowledged blob was registered twice (one
 * `BlobRegistered` event per store attempt of that content: nothing paid twice); (5) the chain's supply audit is exact
 * (minted = balances + staked + rewards + undistributed). The report gives operations, faults by
 * kind, p50/p99 latencies and errors by kind; the exit code is 0 only if every check passed.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startDevNetwork, type DevNetwork } from '../src/network/dev-network.ts';
import { RemoteChain } from '../src/chain/remote/client.ts';
import { LocalChain } from '../src/chain/local/local-chain.ts';
import { loadWallet } from '../src/client/client-config.ts';
import { storeBlob } from '../src/client/store-blob.ts';
import { readBlob } from '../src/client/read-blob.ts';
import { blobIdFromString, blobIdToString } from '../src/codec/blob-id.ts';
import { placeBlob } from '../src/protocol/placement.ts';
import { StorageNodeClient } from '../src/node-api/client.ts';
import { CodecPool } from '../src/pool/codec-pool.ts';
import { FROST_PER_WAL, type CommitteeInfo } from '../src/chain/types.ts';
import { inSlots } from '../src/util/slots.ts';
import { sleep } from '../src/util/async.ts';
import { mulberry32 } from '../src/util/mulberry32.ts';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    seed: { type: 'string' },
    nodes: { type: 'string', default: '7' },
    'n-shards': { type: 'string', default: '70' },
    concurrency: { type: 'string', default: '3' },
    'max-size-mib': { type: 'string', default: '32' },
    'max-epochs': { type: 'string', default: '4' },
    report: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const minutes = Number(args.minutes);
const seed = args.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(args.seed);
const nodeCount = Number(args.nodes);
const nShards = Number(args['n-shards']);
// Blobs live 1…max-epochs epochs: a long run with many epoch changes needs a larger value, or
// most acknowledged blobs have expired (and are no longer checked) by the end.
const maxEpochs = Number(args['max-epochs']);
const concurrency = Number(args.concurrency);
const maxSize = Math.floor(Number(args['max-size-mib']) * 2 ** 20);
if (!Number.isInteger(maxEpochs) || maxEpochs < 1) throw new Error('--max-epochs must be a whole number ≥ 1');
for (const [k, v] of Object.entries({ minutes, seed, nodeCount, nShards, concurrency, maxSize }))
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${k} must be a non-negative number`);

const rand = mulberry32(seed);
const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)];
const between = (lo: number, hi: number) => lo + rand() * (hi - lo);

/** The bytes of a stored blob, regenerated from (seed, size): xorshift32 words. */
function blobData(dataSeed: number, size: number): Uint8Array {
  const words = new Uint32Array(Math.ceil(size / 4));
  let x = dataSeed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return new Uint8Array(words.buffer, 0, size);
}
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

interface Acked {
  blobId: string;
  objectId: string;
  sha: string;
  size: number;
  deletable: boolean;
  endEpoch: number;
  deleted: boolean;
}

const acked: Acked[] = [];
/** Store attempts per content hash: equal content (every empty blob) has one blob ID. */
const attempts = new Map<string, number>();
const ops: Record<string, { ok: number; failed: number; ms: number[] }> = {};
const errors: Record<string, number> = {};
const faults: Record<string, number> = {};
const corrupt: string[] = [];
const log = (m: string) => process.stderr.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

function record(op: string, ms: number, ok: boolean, error?: unknown): void {
  const o = (ops[op] ??= { ok: 0, failed: 0, ms: [] });
  if (ok) {
    o.ok++;
    o.ms.push(ms);
  } else {
    o.failed++;
    const e = error as Error & { code?: string };
    const kind = `${op}: ${e?.constructor?.name ?? 'Error'}${e?.code ? ` ${e.code}` : ''}`;
    errors[kind] = (errors[kind] ?? 0) + 1;
  }
}
const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]);
};

const dir = await mkdtemp(join(tmpdir(), 'tusk-soak-'));
log(`seed ${seed}, ${nodeCount} nodes, ${nShards} shards, ${minutes} min, data in ${dir}`);
let net: DevNetwork = await startDevNetwork({
  dataDir: dir,
  nodes: nodeCount,
  nShards,
  walletFunds: 1_000_000n * FROST_PER_WAL,
  epochDurationMs: 24 * 3_600_000, // epochs advance only when the fault injector says so
});
const chain = new RemoteChain({ url: net.chainUrl });
const signer = await loadWallet(join(dir, 'wallet.key'));
const pool = new CodecPool({ threads: 1 });
const f = Math.floor((nShards - 1) / 3);
const deadline = Date.now() + minutes * 60_000;
let currentEpoch = (await chain.systemState()).epoch;

// ---- load ----
async function storeOne(): Promise<void> {
  const size = rand() < 0.05 ? 0 : Math.floor(2 ** between(0, Math.log2(maxSize)));
  const dataSeed = Math.floor(rand() * 2 ** 31) + 1;
  const deletable = rand() < 0.7;
  const epochs = 1 + Math.floor(rand() * maxEpochs);
  const data = blobData(dataSeed, size);
  const sha = sha256(data);
  attempts.set(sha, (attempts.get(sha) ?? 0) + 1);
  const t = performance.now();
  try {
    const r = await storeBlob(data, { chain, signer, epochs, deletable, pool, nodeTimeoutMs: 20_000 });
    record('store', performance.now() - t, true);
    acked.push({ blobId: r.blobId, objectId: r.blobObjectId, sha, size, deletable, endEpoch: r.endEpoch, deleted: false });
    r.background.catch(() => {});
  } catch (e) {
    record('store', performance.now() - t, false, e);
  }
}

const live = () => acked.filter((a) => !a.deleted && a.endEpoch > currentEpoch);

async function readOne(): Promise<void> {
  const candidates = live();
  if (candidates.length === 0) return storeOne();
  const a = pick(candidates);
  const t = performance.now();
  try {
    const bytes = await readBlob(a.blobId, { chain, pool, nodeTimeoutMs: 20_000 });
    if (sha256(bytes) !== a.sha) corrupt.push(`${a.blobId} read during the load`);
    record('read', performance.now() - t, true);
  } catch (e) {
    // A blob that expired at an epoch change in the meantime is not a failure.
    if (
      a.endEpoch <=
      (await chain
        .systemState()
        .then((s) => s.epoch)
        .catch(() => 0))
    )
      return;
    record('read', performance.now() - t, false, e);
  }
}

async function deleteOne(): Promise<void> {
  const candidates = live().filter((a) => a.deletable);
  if (candidates.length === 0) return;
  const a = pick(candidates);
  // No longer read or checked, whatever the outcome. Equal content (tiny blobs repeat: a 1-byte
  // blob has 256 possible values) is one blob ID, and a second store reuses the same Blob object:
  // every entry of that object goes with it.
  for (const x of acked) if (x.objectId === a.objectId) x.deleted = true;
  const t = performance.now();
  try {
    await chain.deleteBlob(signer, a.objectId);
    record('delete', performance.now() - t, true);
  } catch (e) {
    record('delete', performance.now() - t, false, e);
  }
}

async function extendOne(): Promise<void> {
  const candidates = live();
  if (candidates.length === 0) return;
  const a = pick(candidates);
  const t = performance.now();
  try {
    const r = await chain.extendBlob(signer, a.objectId, 1 + Math.floor(rand() * 2));
    for (const x of acked) if (x.objectId === a.objectId) x.endEpoch = r.blob.storage.endEpoch;
    record('extend', performance.now() - t, true);
  } catch (e) {
    record('extend', performance.now() - t, false, e);
  }
}

async function worker(): Promise<void> {
  while (Date.now() < deadline) {
    const r = rand();
    if (r < 0.5) await storeOne();
    else if (r < 0.85) await readOne();
    else if (r < 0.93) await deleteOne();
    else await extendOne();
  }
}

// ---- faults ----
const down = new Map<number, number>(); // node index → shards it holds
async function shardsOf(i: number): Promise<number> {
  const c = await chain.committee().catch(() => null);
  return c?.members.find((m) => m.nodeId === net.nodes[i].nodeId)?.shards.length ?? Math.ceil(nShards / nodeCount);
}
const shardsDown = () => [...down.values()].reduce((s, x) => s + x, 0);

async function faultLoop(): Promise<void> {
  const pending: Promise<void>[] = [];
  while (Date.now() < deadline) {
    await sleep(between(8_000, 30_000));
    if (Date.now() >= deadline) break;
    const kind = pick(['kill', 'kill', 'stall', 'stall', 'chain', 'epoch'] as const);
    try {
      if (kind === 'kill' || kind === 'stall') {
        const up = net.nodes.map((_, i) => i).filter((i) => !down.has(i));
        if (up.length === 0) continue;
        const i = pick(up);
        const shards = await shardsOf(i);
        if (shardsDown() + shards > f) continue; // would exceed f: skip this fault
        down.set(i, shards);
        faults[kind] = (faults[kind] ?? 0) + 1;
        if (kind === 'kill') {
          await net.stopNode(i, 'SIGKILL');
          log(`SIGKILL ${net.nodes[i].name} (${shards} shards; ${shardsDown()} of f = ${f} down)`);
          pending.push(
            sleep(between(3_000, 20_000)).then(async () => {
              // A restart can fail (e.g. while the chain server restarts): try again, and keep the
              // node counted as down until it is really up.
              for (let attempt = 1; ; attempt++) {
                try {
                  await net.startNode(i);
                  break;
                } catch (e) {
                  errors['restart failed'] = (errors['restart failed'] ?? 0) + 1;
                  log(`restart of ${net.nodes[i].name} failed (attempt ${attempt}): ${(e as Error).message.split('\n')[0]}`);
                  await sleep(5_000);
                }
              }
              down.delete(i);
              log(`${net.nodes[i].name} restarted`);
            }),
          );
        } else {
          const pid = net.nodes[i].pid;
          process.kill(pid, 'SIGSTOP');
          log(`SIGSTOP ${net.nodes[i].name}`);
          pending.push(
            sleep(between(3_000, 15_000)).then(() => {
              process.kill(pid, 'SIGCONT');
              down.delete(i);
              log(`SIGCONT ${net.nodes[i].name}`);
            }),
          );
        }
      } else if (kind === 'chain') {
        faults.chainRestart = (faults.chainRestart ?? 0) + 1;
        await net.restartChain('SIGKILL');
        log('chain server SIGKILLed and restarted');
      } else {
        // Stake moves shards: the next committee is drawn by stake.
        const node = pick(net.nodes);
        await chain.stake(signer, node.nodeId, BigInt(Math.floor(between(200, 3000))) * FROST_PER_WAL);
        const r = await chain.advanceEpoch();
        currentEpoch = r.epoch;
        faults.epochChange = (faults.epochChange ?? 0) + 1;
        log(`staked on ${node.name}, advanced to epoch ${r.epoch}`);
      }
    } catch (e) {
      errors[`fault ${kind}: ${(e as Error).message.slice(0, 80)}`] =
        (errors[`fault ${kind}: ${(e as Error).message.slice(0, 80)}`] ?? 0) + 1;
    }
  }
  await Promise.all(pending);
}

const progress = setInterval(
  () =>
    log(
      `${Math.max(0, Math.round((deadline - Date.now()) / 1000))} s left: ${acked.length} acknowledged, ops ${JSON.stringify(Object.fromEntries(Object.entries(ops).map(([k, v]) => [k, `${v.ok}/${v.failed}`])))}, faults ${JSON.stringify(faults)}`,
    ),
  30_000,
);
await Promise.all([...Array.from({ length: concurrency }, worker), faultLoop()]);
clearInterval(progress);
log('load and faults stopped; checking');

// ---- checks ----
currentEpoch = (await chain.systemState()).epoch;
const toCheck = live();

async function missingSlivers(committee: CommitteeInfo): Promise<number> {
  let missing = 0;
  const jobs: (() => Promise<void>)[] = [];
  for (const a of toCheck) {
    const id = blobIdFromString(a.blobId);
    for (const p of placeBlob(committee, id)) {
      const client = new StorageNodeClient(p.node.networkAddress, { timeoutMs: 10_000 });
      for (const pair of p.pairs)
        for (const axis of ['primary', 'secondary'] as const)
          jobs.push(async () => {
            const s = await client.sliverStatus(id, pair, axis).catch(() => 'error');
            if (s !== 'stored') missing++;
          });
    }
  }
  await inSlots(16, jobs.length, (k) => jobs[k]());
  return missing;
}

let missing = -1;
const recoverDeadline = Date.now() + 10 * 60_000;
for (;;) {
  missing = await missingSlivers(await chain.committee());
  log(`slivers not yet held by their nodes: ${missing}`);
  if (missing === 0 || Date.now() > recoverDeadline) break;
  await sleep(15_000);
}

async function readAll(when: string): Promise<{ ok: number; lost: string[] }> {
  const lost: string[] = [];
  let ok = 0;
  await inSlots(2, toCheck.length, async (k) => {
    const a = toCheck[k];
    try {
      const bytes = await readBlob(a.blobId, { chain: new RemoteChain({ url: net.chainUrl }), pool });
      if (sha256(bytes) === a.sha) ok++;
      else lost.push(`${a.blobId} (${when}): bytes differ`);
    } catch (e) {
      lost.push(`${a.blobId} (${when}): ${(e as Error).message.slice(0, 160)}`);
    }
  });
  return { ok, lost };
}
const afterLoad = await readAll('after the load');
log(`read back ${afterLoad.ok}/${toCheck.length} after the load`);
await net.stop();
net = await startDevNetwork({ dataDir: dir });
const afterRestart = await readAll('after a full restart');
log(`read back ${afterRestart.ok}/${toCheck.length} after a full restart`);

// One registration per acknowledged blob ID: a store retried inside the client must reuse it.
const registrations = new Map<string, number>();
const restarted = new RemoteChain({ url: net.chainUrl });
for (let cursor: string | null = null; ;) {
  const page = await restarted.events({ cursor, limit: 1000 });
  for (const e of page.events)
    if (e.event.type === 'BlobRegistered') {
      const k = blobIdToString(e.event.blobId);
      registrations.set(k, (registrations.get(k) ?? 0) + 1);
    }
  if (page.events.length === 0 || page.nextCursor === null || page.nextCursor === cursor) break;
  cursor = page.nextCursor;
}
// Each store attempt may register once (a failed attempt may have paid before it failed); a
// registration beyond that count is a payment the client made twice.
const paidTwice = [...new Map(acked.map((a) => [a.blobId, a])).values()]
  .filter((a) => (registrations.get(a.blobId) ?? 0) > (attempts.get(a.sha) ?? 0))
  .map((a) => `${a.blobId}: ${registrations.get(a.blobId)} registrations for ${attempts.get(a.sha)} store attempts`);
await net.stop();
await pool.close();
const local = await LocalChain.open({ path: join(dir, 'chain', 'chain.sqlite') });
const audit = await local.supplyAudit();
await local.close();
const accounted = audit.balances + audit.stakedPrincipal + audit.poolRewards + audit.undistributed;

const report = {
  seed,
  minutes,
  nodes: nodeCount,
  nShards,
  f,
  concurrency,
  maxSizeMiB: maxSize / 2 ** 20,
  operations: Object.fromEntries(
    Object.entries(ops).map(([k, v]) => [k, { ok: v.ok, failed: v.failed, p50Ms: pct(v.ms, 50), p99Ms: pct(v.ms, 99) }]),
  ),
  acknowledgedStores: acked.length,
  liveAtEnd: toCheck.length,
  bytesAcknowledged: acked.reduce((s, a) => s + a.size, 0),
  faults,
  errorsByKind: errors,
  checks: {
    corruptReadsDuringLoad: corrupt.length,
    unrecoveredSlivers: missing,
    lostAfterLoad: afterLoad.lost.length,
    lostAfterRestart: afterRestart.lost.length,
    paidTwice: paidTwice.length,
    supplyExact: accounted === audit.minted,
  },
  details: { corrupt, lost: [...afterLoad.lost, ...afterRestart.lost].slice(0, 20), paidTwice: paidTwice.slice(0, 20) },
  supply: Object.fromEntries(Object.entries(audit).map(([k, v]) => [k, String(v)])),
};
const c = report.checks;
const passed =
  c.corruptReadsDuringLoad === 0 &&
  c.unrecoveredSlivers === 0 &&
  c.lostAfterLoad === 0 &&
  c.lostAfterRestart === 0 &&
  c.paidTwice === 0 &&
  c.supplyExact;
const json = JSON.stringify(report, null, 2);
if (args.report) await writeFile(args.report, json + '\n');
process.stdout.write(json + '\n');
log(
  `${passed ? 'PASS' : 'FAIL'}: ${acked.length} acknowledged stores (${toCheck.length} live at the end), ` +
    `faults ${JSON.stringify(faults)}; lost ${c.lostAfterLoad}/${c.lostAfterRestart} (after load/restart), ` +
    `corrupt ${c.corruptReadsDuringLoad}, unrecovered slivers ${c.unrecoveredSlivers}, paid twice ${c.paidTwice}, supply exact ${c.supplyExact}`,
);
if (!args.keep) await rm(dir, { recursive: true, force: true });
else log(`network data kept in ${dir}`);
process.exit(passed ? 0 : 1);
