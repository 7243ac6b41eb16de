/**
 * Walrus CLI parity for the system views: `tusk health` (each storage node's `/v1/health`, with the
 * Walrus CLI's node selection, sorting and JSON: `{"healthInfo":[{nodeId,nodeUrl,nodeName,
 * networkPublicKey,healthInfo:{"Ok":ServiceHealthInfo}|{"Err":"…"}}],"latestSeq":null}`) and the
 * sections of `tusk info [all|epoch|storage|size|price|committee|bft|challenges]` (Walrus's InfoOutput field
 * names: epochInfo, storageInfo, sizeInfo, priceInfo, committeeInfo, bftInfo; Tusk adds
 * challengeInfo: the storage-challenge round, last outcomes, jail and burnt totals). FROST amounts are
 * decimal strings, as everywhere in Tusk's JSON (Walrus prints u64 numbers, which lose precision
 * in JavaScript above 2^53).
 */
import type { ChallengeReads, ChallengeSummary, CommitteeNode, StorageNodeInfo, SystemState } from '../chain/types.ts';
import { BYTES_PER_UNIT_SIZE, storageUnits } from '../chain/types.ts';
import { EncodingConfig } from '../codec/config.ts';
import { encodingByName } from '../codec/encodings/index.ts';
import { StorageNodeClient } from '../node-api/client.ts';
import { inSlots } from '../util/slots.ts';
import { selectChain } from './chain-select.ts';
import { print } from './common.ts';

/** Usage text of `health` (main.ts appends it to its own). */
export const HEALTH_USAGE = `Network health (as the Walrus CLI):
  health [--committee | --active-set | --node-ids ID… | --node-urls URL…] [--detail]
         [--sort-by status|id|name|url] [--desc] [--concurrent-requests N] [--timeout-ms MS]
                              Each storage node's health: status, epoch, shards owned and their
                              state (ready, in recovery), event progress. Default: --committee.
                              --detail adds the per-shard status and the node's storage counts.
                              Exit 0 when every selected node answered, 1 otherwise.
  Common: --config <file>, --json, --network, --rpc-url (as the client commands).`;

/** The `info` sections, as `walrus info <section>` names them. */
export const INFO_SECTIONS = ['all', 'epoch', 'storage', 'size', 'price', 'committee', 'bft', 'challenges'] as const;
export type InfoSection = (typeof INFO_SECTIONS)[number];

const HEALTH_SORT = ['status', 'id', 'name', 'url'] as const;
type HealthSort = (typeof HEALTH_SORT)[number];

interface HealthArgs {
  config?: string;
  json: boolean;
  network?: string;
  rpcUrl?: string;
  selection: 'committee' | 'active-set' | 'node-ids' | 'node-urls';
  ids: string[];
  detail: boolean;
  sortBy: HealthSort;
  desc: boolean;
  concurrency: number;
  timeoutMs: number;
}

/** Parses Walrus-style arguments (`--node-ids A B C` takes every value up to the next option). */
function parseHealth(argv: string[], usageError: (m: string) => Error): HealthArgs {
  const out: HealthArgs = {
    json: false,
    selection: 'committee',
    ids: [],
    detail: false,
    sortBy: 'status',
    desc: false,
    concurrency: 10,
    timeoutMs: 10_000,
  };
  const chosen = new Set<string>();
  const value = (i: number, name: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw usageError(`${name} needs a value`);
    return v;
  };
  const count = (raw: string, name: string, min: number): number => {
    if (!/^\d+$/.test(raw) || Number(raw) < min) throw usageError(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
    return Number(raw);
  };
  for (let i = 0; i < argv.length; i++) {
    const [a, inline] =
      argv[i].startsWith('--') && argv[i].includes('=')
        ? [argv[i].slice(0, argv[i].indexOf('=')), argv[i].slice(argv[i].indexOf('=') + 1)]
        : [argv[i], undefined];
    const take = (name: string): string => (inline !== undefined ? inline : value(i++, name));
    switch (a) {
      case '--config':
        out.config = take(a);
        break;
      case '--network':
        out.network = take(a);
        break;
      case '--rpc-url':
        out.rpcUrl = take(a);
        break;
      case '--json':
        out.json = true;
        break;
      case '--detail':
        out.detail = true;
        break;
      case '--desc':
        out.desc = true;
        break;
      case '--committee':
      case '--active-set':
        chosen.add(a);
        out.selection = a.slice(2) as HealthArgs['selection'];
        break;
      case '--node-ids':
      case '--node-urls': {
        chosen.add(a);
        out.selection = a.slice(2) as HealthArgs['selection'];
        if (inline !== undefined) out.ids.push(inline);
        while (i + 1 < argv.length && !argv[i + 1].startsWith('--')) out.ids.push(argv[++i]);
        if (out.ids.length === 0) throw usageError(`${a} needs at least one value`);
        break;
      }
      case '--sort-by': {
        const v = take(a);
        if (!HEALTH_SORT.includes(v as HealthSort))
          throw usageError(`--sort-by must be one of ${HEALTH_SORT.join(', ')}, got ${JSON.stringify(v)}`);
        out.sortBy = v as HealthSort;
        break;
      }
      case '--concurrent-requests':
        out.concurrency = count(take(a), a, 1);
        break;
      case '--timeout-ms':
        out.timeoutMs = count(take(a), a, 1);
        break;
      default:
        throw usageError(
          a.startsWith('-') ? `health: unknown option ${a}` : `health takes no positional arguments (got ${JSON.stringify(a)})`,
        );
    }
  }
  if (chosen.size > 1) throw usageError(`health: choose one of ${[...chosen].join(', ')}`);
  if (out.selection === 'node-ids')
    for (const id of out.ids)
      if (!/^0x[0-9a-fA-F]{1,64}$/.test(id)) throw usageError(`--node-ids: not an object ID: ${JSON.stringify(id)}`);
  return out;
}

/** One node to ask: what the chain knows of it (null fields for a URL the chain does not know). */
interface HealthTarget {
  nodeId: string | null;
  nodeUrl: string;
  nodeName: string;
  publicKey: string | null;
}

/** One row of `walrus health --json`. `healthInfo` is serde's `Result`: `{"Ok":…}` or `{"Err":"…"}`. */
export interface NodeHealthOutput {
  nodeId: string | null;
  nodeUrl: string;
  nodeName: string;
  /** Walrus nodes have a TLS (network) key; Tusk nodes speak plain HTTP, so this is null. */
  networkPublicKey: null;
  /** The node's BLS protocol key (base64), a Tusk addition. */
  publicKey: string | null;
  healthInfo: { Ok: Record<string, unknown> } | { Err: string };
}

const b64 = (k: Uint8Array): string => Buffer.from(k).toString('base64');

function targetOf(node: CommitteeNode | StorageNodeInfo): HealthTarget {
  return { nodeId: node.nodeId, nodeUrl: node.networkAddress, nodeName: node.name, publicKey: b64(node.publicKey) };
}

/** Ordering of Walrus's `--sort-by status` (answers before errors, then by status, then name). */
function compareHealth(by: HealthSort): (a: NodeHealthOutput, b: NodeHealthOutput) => number {
  const byName = (a: NodeHealthOutput, b: NodeHealthOutput) => a.nodeName.toLowerCase().localeCompare(b.nodeName.toLowerCase());
  switch (by) {
    case 'name':
      return byName;
    case 'id':
      return (a, b) => (a.nodeId ?? '').localeCompare(b.nodeId ?? '');
    case 'url':
      return (a, b) => a.nodeUrl.toLowerCase().localeCompare(b.nodeUrl.toLowerCase());
    case 'status':
      return (a, b) => {
        const ka = 'Ok' in a.healthInfo ? `0${String(a.healthInfo.Ok.nodeStatus ?? '').toLowerCase()}` : `1${a.healthInfo.Err}`;
        const kb = 'Ok' in b.healthInfo ? `0${String(b.healthInfo.Ok.nodeStatus ?? '').toLowerCase()}` : `1${b.healthInfo.Err}`;
        return ka < kb ? -1 : ka > kb ? 1 : byName(a, b);
      };
  }
}

/** A health row's one-line text form. */
function healthLine(h: NodeHealthOutput): string {
  const name = (h.nodeName || '?').padEnd(12);
  if ('Err' in h.healthInfo) return `${name} UNREACHABLE  ${h.nodeUrl}  ${h.healthInfo.Err}`;
  const i = h.healthInfo.Ok as {
    nodeStatus?: string;
    epoch?: number | null;
    shardSummary?: {
      owned?: number;
      ownedShardStatus?: { ready?: number; inRecovery?: number; inTransfer?: number };
      missingSlivers?: number;
    };
    eventProgress?: { persisted?: number; pending?: number };
  };
  const s = i.shardSummary ?? {};
  const st = s.ownedShardStatus ?? {};
  const recovering = (st.inRecovery ?? 0) + (st.inTransfer ?? 0);
  return (
    `${name} ${String(i.nodeStatus ?? '?').padEnd(11)} epoch ${i.epoch ?? '-'}  shards ${s.owned ?? 0} (${st.ready ?? 0} ready` +
    `${recovering ? `, ${recovering} recovering, ${s.missingSlivers ?? 0} slivers missing` : ''})  events ${i.eventProgress?.persisted ?? 0}` +
    `${i.eventProgress?.pending ? ` (+${i.eventProgress.pending} pending)` : ''}  ${h.nodeUrl}`
  );
}

/** `tusk health`. Resolves to the exit code (1 if any selected node did not answer). */
export async function healthCommand(argv: string[], usageError: (m: string) => Error): Promise<number> {
  const a = parseHealth(argv, usageError);
  const { chain } = await selectChain({ config: a.config, network: a.network, 'rpc-url': a.rpcUrl });
  let targets: HealthTarget[];
  if (a.selection === 'committee') {
    targets = (await chain.systemState()).committee.members.map(targetOf);
  } else {
    const known = await chain.nodes();
    if (a.selection === 'active-set') targets = known.map(targetOf);
    else if (a.selection === 'node-ids')
      targets = a.ids.map((id) => {
        const want = BigInt(id);
        const n = known.find((k) => BigInt(k.nodeId) === want);
        if (!n) throw usageError(`--node-ids: no storage node ${id} on this chain`);
        return targetOf(n);
      });
    else
      targets = a.ids.map((url) => {
        // On chain an address is `host:port` (as on Walrus) or a URL: compare without the scheme.
        const n = known.find((k) => bareAddress(k.networkAddress) === bareAddress(url));
        return n ? targetOf(n) : { nodeId: null, nodeUrl: url, nodeName: '', publicKey: null };
      });
  }
  const rows: NodeHealthOutput[] = new Array(targets.length);
  // Every job catches its own failure (an unreachable node is a row, not an error).
  await inSlots(a.concurrency, targets.length, async (i) => {
    const t = targets[i];
    let healthInfo: NodeHealthOutput['healthInfo'];
    try {
      healthInfo = { Ok: await new StorageNodeClient(t.nodeUrl, { timeoutMs: a.timeoutMs }).health({}, a.detail) };
    } catch (e) {
      healthInfo = { Err: `failed to get health info: ${(e as Error).message}` };
    }
    rows[i] = { nodeId: t.nodeId, nodeUrl: t.nodeUrl, nodeName: t.nodeName, networkPublicKey: null, publicKey: t.publicKey, healthInfo };
  });
  rows.sort(compareHealth(a.sortBy));
  if (a.desc) rows.reverse();
  const answered = rows.filter((r) => 'Ok' in r.healthInfo).length;
  print(
    a.json,
    { healthInfo: rows, latestSeq: null },
    [...rows.map(healthLine), `${answered} of ${rows.length} node(s) answered`].join('\n'),
  );
  return answered === rows.length ? 0 : 1;
}

/** The price of `bytes` (encoded) for one epoch. */
const priceOf = (encoded: number, price: bigint): string => (storageUnits(encoded) * price).toString();

/** `walrus info price`'s per-encoding block, computed with Tusk's encoders' sizes. */
function encodingPriceInfo(nShards: number, storagePrice: bigint, name: 'RS2' | 'RS8') {
  const cfg = new EncodingConfig(nShards, encodingByName(name));
  let marginalSize = 1 << 20;
  while (marginalSize > cfg.maxBlobSize) marginalSize = Math.floor(marginalSize / 4);
  const metadataStorageSize = nShards * (nShards * 64 + 32);
  const slivers = (len: number) => cfg.encodedBlobLength(len) - metadataStorageSize;
  const nextPow2 = (x: number) => 2 ** Math.ceil(Math.log2(Math.max(1, x)));
  const example0 = Math.floor(nextPow2(cfg.maxBlobSize) / 1024);
  const examples = [example0, example0 * 32, cfg.maxBlobSize].filter((s) => s <= cfg.maxBlobSize);
  return {
    marginalSize,
    metadataPrice: priceOf(metadataStorageSize, storagePrice),
    marginalPrice: priceOf(slivers(marginalSize), storagePrice),
    exampleBlobs: examples.map((unencodedSize) => {
      const encodedSize = cfg.encodedBlobLength(unencodedSize);
      return { unencodedSize, encodedSize, price: priceOf(encodedSize, storagePrice), encodingType: name };
    }),
    encodingType: name,
  };
}

/**
 * The `info` sections of a chain state, under Walrus's names. `nodes` (every registered node, for
 * stake) is only read for the committee section.
 * @pre the committee is non-empty for size/price/committee/bft (a chain before its first epoch has none).
 */
export function infoSections(
  s: SystemState,
  nodes: readonly StorageNodeInfo[],
  now = Date.now(),
  challenges: ChallengeSummary | null = null,
) {
  const cfg = s.committee.members.length ? new EncodingConfig(s.nShards) : null;
  const f = Math.floor((s.nShards - 1) / 3);
  const epochInfo = {
    currentEpoch: s.epoch,
    startOfCurrentEpoch:
      s.epochState === 'active'
        ? { DateTime: new Date(s.epochStartMs).toISOString() }
        : {
            Message: `Epoch change is currently in progress... Expected epoch end time is ${new Date(now + s.epochDurationMs).toISOString()}`,
          },
    epochDuration: { secs: Math.floor(s.epochDurationMs / 1000), nanos: (s.epochDurationMs % 1000) * 1_000_000 },
    maxEpochsAhead: s.maxEpochsAhead,
  };
  const storageInfo = { nShards: s.nShards, nNodes: s.committee.members.length };
  const sizeInfo = { storageUnitSize: BYTES_PER_UNIT_SIZE, maxBlobSize: cfg?.maxBlobSize ?? null };
  const priceInfo = {
    storagePricePerUnitSize: s.storagePricePerUnitSize.toString(),
    writePricePerUnitSize: s.writePricePerUnitSize.toString(),
    encodingDependentPriceInfo: cfg
      ? [
          encodingPriceInfo(s.nShards, s.storagePricePerUnitSize, 'RS2'),
          ...(s.nShards <= 195 ? [encodingPriceInfo(s.nShards, s.storagePricePerUnitSize, 'RS8')] : []),
        ]
      : [],
  };
  const stakeOf = new Map(nodes.map((n) => [BigInt(n.nodeId), n.stake]));
  const maxBlob = cfg?.maxBlobSize ?? 0;
  const committeeInfo = {
    nShards: s.nShards,
    nPrimarySourceSymbols: cfg?.primarySymbols ?? null,
    nSecondarySourceSymbols: cfg?.secondarySymbols ?? null,
    maxSliverSize: cfg ? cfg.primarySliverBytes(cfg.symbolSize(maxBlob)) : null,
    metadataStorageSize: s.nShards * (s.nShards * 64 + 32),
    maxEncodedBlobSize: cfg ? cfg.encodedBlobLength(maxBlob) : null,
    storageNodes: [...s.committee.members]
      .sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()))
      .map((m) => ({
        name: m.name,
        networkAddress: m.networkAddress,
        publicKey: b64(m.publicKey),
        networkPublicKey: null,
        nShards: m.shards.length,
        shardIds: [...m.shards],
        nodeId: m.nodeId,
        stake: (stakeOf.get(BigInt(m.nodeId)) ?? 0n).toString(),
      })),
    nextStorageNodes: null,
  };
  // Walrus's committee.min_nodes_above_f(): the fewest nodes holding more than f shards together.
  const weights = s.committee.members.map((m) => m.shards.length).sort((x, y) => y - x);
  let minNodesAbove = 0;
  let shardsAbove = 0;
  for (const w of weights) {
    if (shardsAbove > f) break;
    shardsAbove += w;
    minNodesAbove++;
  }
  const bftInfo = { maxFaultyShards: f, minCorrectShards: s.nShards - f, quorumThreshold: 2 * f + 1, minNodesAbove, shardsAbove };
  return { epochInfo, storageInfo, sizeInfo, priceInfo, committeeInfo, bftInfo, challengeInfo: challengeInfo(challenges, nodes) };
}

/** The challenge reads of `chain` if it has storage challenges (a Tusk chain), else null. */
export async function challengeSummaryOf(chain: object): Promise<ChallengeSummary | null> {
  const c = chain as Partial<ChallengeReads>;
  return typeof c.challengeSummary === 'function' ? c.challengeSummary() : null;
}

/** `info challenges` (Tusk only; null on a chain without storage challenges). Node names from `nodes`. */
export function challengeInfo(c: ChallengeSummary | null, nodes: readonly StorageNodeInfo[]) {
  if (c === null) return null;
  const name = (id: string) => nodes.find((n) => n.nodeId === id)?.name ?? '?';
  return {
    epoch: c.epoch,
    params: c.params,
    currentRound: c.currentRound,
    lastOutcomes: c.lastOutcomes && {
      epoch: c.lastOutcomes.epoch,
      round: c.lastOutcomes.round,
      nodes: c.lastOutcomes.nodes.map((n) => ({ name: name(n.nodeId), ...n })),
    },
    jailed: c.jailed.map((j) => ({ name: name(j.nodeId), ...j })),
    burned: c.burned.toString(),
    slashed: c.slashed.toString(),
    commissionBurned: c.commissionBurned.toString(),
  };
}

/** The text of one `info` section. */
export function infoSectionText(
  section: Exclude<InfoSection, 'all'>,
  x: ReturnType<typeof infoSections>,
  formatWal: (v: bigint) => string,
): string {
  switch (section) {
    case 'epoch': {
      const e = x.epochInfo;
      const start = 'DateTime' in e.startOfCurrentEpoch ? `started ${e.startOfCurrentEpoch.DateTime}` : e.startOfCurrentEpoch.Message;
      return `Epoch: current ${e.currentEpoch}, ${start}; duration ${e.epochDuration.secs} s; up to ${e.maxEpochsAhead} epochs ahead`;
    }
    case 'storage':
      return `Storage: ${x.storageInfo.nShards} shards on ${x.storageInfo.nNodes} nodes`;
    case 'size':
      return `Size: storage unit ${x.sizeInfo.storageUnitSize} B; max blob ${x.sizeInfo.maxBlobSize ?? '-'} B`;
    case 'price':
      return [
        `Price: storage ${formatWal(BigInt(x.priceInfo.storagePricePerUnitSize))} WAL per unit per epoch, write ${formatWal(BigInt(x.priceInfo.writePricePerUnitSize))} WAL per unit`,
        ...x.priceInfo.encodingDependentPriceInfo.flatMap((p) => [
          `  ${p.encodingType}: metadata ${formatWal(BigInt(p.metadataPrice))} WAL per epoch; each ${p.marginalSize} B more ${formatWal(BigInt(p.marginalPrice))} WAL per epoch`,
          ...p.exampleBlobs.map(
            (b) => `    ${b.unencodedSize} B (${b.encodedSize} B encoded): ${formatWal(BigInt(b.price))} WAL per epoch`,
          ),
        ]),
      ].join('\n');
    case 'committee': {
      const c = x.committeeInfo;
      return [
        `Committee: ${c.nShards} shards, source symbols ${c.nPrimarySourceSymbols}×${c.nSecondarySourceSymbols}, max sliver ${c.maxSliverSize} B, metadata ${c.metadataStorageSize} B, max encoded blob ${c.maxEncodedBlobSize} B`,
        ...c.storageNodes.map(
          (n) =>
            `  ${n.name.padEnd(12)} ${String(n.nShards).padStart(4)} shards  stake ${formatWal(BigInt(n.stake))} WAL  ${n.networkAddress}  ${n.nodeId}`,
        ),
      ].join('\n');
    }
    case 'bft': {
      const b = x.bftInfo;
      return `BFT: up to ${b.maxFaultyShards} faulty shards; ${b.minCorrectShards} correct needed; quorum ${b.quorumThreshold}; ${b.minNodesAbove} node(s) hold ${b.shardsAbove} shards (> f)`;
    }
    case 'challenges': {
      const c = x.challengeInfo;
      if (c === null) return 'Challenges: none on this chain (Walrus has no storage challenges)';
      const r = c.currentRound;
      const iso = (ms: number) => new Date(ms).toISOString();
      const lost = (n: { absent: number; invalid: number }) =>
        n.absent + n.invalid
          ? ` (${[n.absent ? `${n.absent} absent` : '', n.invalid ? `${n.invalid} invalid` : ''].filter(Boolean).join(', ')})`
          : '';
      return [
        `Challenges: epoch ${c.epoch}, ${c.params.symbolsPerRound} symbols × ${c.params.roundsPerEpoch} rounds per epoch, slash ${(c.params.slashBps / 100).toFixed(2)} %`,
        r
          ? `  round ${r.epoch}/${r.round} started ${iso(r.startedMs)}, ${r.nodes} node(s) challenged, ${r.closed ? 'closed' : `commit by ${iso(r.commitDeadlineMs)}, proofs by ${iso(r.proofDeadlineMs)}`}`
          : '  no round yet this epoch',
        c.lastOutcomes
          ? `  last outcomes (round ${c.lastOutcomes.epoch}/${c.lastOutcomes.round}): ${c.lastOutcomes.nodes.map((n) => `${n.name} ${n.outcome}${lost(n)}`).join(', ')}`
          : '  no outcomes yet',
        `  jailed: ${c.jailed.length ? c.jailed.map((j) => `${j.name} until epoch ${j.untilEpoch}`).join(', ') : 'none'}`,
        `  burnt: ${formatWal(BigInt(c.burned))} WAL (stake slashed ${formatWal(BigInt(c.slashed))} WAL, commission ${formatWal(BigInt(c.commissionBurned))} WAL)`,
      ].join('\n');
    }
  }
}

/** `host:port` of a node address given as `host:port` or as a URL (any scheme, trailing slashes). */
function bareAddress(address: string): string {
  return address
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .replace(/\/+$/, '')
    .toLowerCase();
}
