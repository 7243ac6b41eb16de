/**
 * What `walrus info` prints, from the chain: the epoch, storage, size, price, committee and BFT
 * sections with Walrus's JSON names (`InfoOutput` of the Walrus CLI: `epochInfo`, `storageInfo`,
 * `sizeInfo`, `priceInfo`, and with `all` `committeeInfo` and `bftInfo`), so scripts written
 * against `walrus info --json` read Tusk's output unchanged.
 *
 * The encoded sizes and prices use the same formulas the chain charges with (EncodingConfig's
 * encoded length, ⌈bytes / 1 MiB⌉ storage units), for every encoding the committee can serve.
 */
import { EncodingConfig } from '../codec/config.ts';
import { ENCODINGS } from '../codec/encodings/index.ts';
import { BYTES_PER_UNIT_SIZE, storageUnits, type Chain, type CommitteeInfo, type SystemState } from '../chain/types.ts';

/** The sections of `info`, as Walrus names its subcommands. */
export const INFO_SECTIONS = ['epoch', 'storage', 'size', 'price', 'committee', 'bft'] as const;
export type InfoSection = (typeof INFO_SECTIONS)[number];

/** A Rust `Duration` as serde writes it. */
interface Duration {
  readonly secs: number;
  readonly nanos: number;
}

const duration = (ms: number): Duration => ({ secs: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 });

/** `epochInfo`. `startOfCurrentEpoch` is `{ DateTime }` or, during an epoch change, `{ Message }`. */
export function epochInfo(s: SystemState) {
  return {
    currentEpoch: s.epoch,
    startOfCurrentEpoch:
      s.epochState === 'active'
        ? { DateTime: new Date(s.epochStartMs).toISOString() }
        : {
            Message: `Epoch change is currently in progress... Expected epoch end time is ${new Date(Date.now() + s.epochDurationMs).toISOString()}`,
          },
    epochDuration: duration(s.epochDurationMs),
    maxEpochsAhead: s.maxEpochsAhead,
  };
}

/** `storageInfo`. */
export function storageInfo(s: SystemState) {
  return { nShards: s.nShards, nNodes: s.committee.members.length };
}

/** `sizeInfo` (the max blob size of the default encoding, RS2). */
export function sizeInfo(s: SystemState) {
  return { storageUnitSize: BYTES_PER_UNIT_SIZE, maxBlobSize: new EncodingConfig(s.nShards).maxBlobSize };
}

/** Per node and shard copy of the metadata: n sliver-pair hashes (2 × 32 B) + 32 B. */
const metadataLength = (n: number) => n * 64 + 32;

/** `priceInfo`: prices, and per encoding the marginal price of a MiB and example blobs. */
export function priceInfo(s: SystemState) {
  const price = s.storagePricePerUnitSize;
  const perEncoding = ENCODINGS.filter((e) => s.nShards >= e.minShards && s.nShards <= e.maxShards).map((scheme) => {
    const cfg = new EncodingConfig(s.nShards, scheme);
    const max = cfg.maxBlobSize;
    const metadataBytes = s.nShards * metadataLength(s.nShards);
    const slivers = (size: number) => cfg.encodedBlobLength(size) - metadataBytes;
    let marginalSize = 1 << 20;
    while (marginalSize > max) marginalSize = Math.floor(marginalSize / 4);
    const small = Math.floor(2 ** Math.ceil(Math.log2(max)) / 1024);
    return {
      marginalSize,
      metadataPrice: Number(storageUnits(metadataBytes) * price),
      marginalPrice: Number(storageUnits(slivers(marginalSize)) * price),
      exampleBlobs: [small, small * 32, max].map((unencodedSize) => {
        const encodedSize = cfg.encodedBlobLength(unencodedSize);
        return { unencodedSize, encodedSize, price: Number(storageUnits(encodedSize) * price), encodingType: scheme.name.toUpperCase() };
      }),
      encodingType: scheme.name.toUpperCase(),
    };
  });
  return {
    storagePricePerUnitSize: Number(s.storagePricePerUnitSize),
    writePricePerUnitSize: Number(s.writePricePerUnitSize),
    encodingDependentPriceInfo: perEncoding,
  };
}

/** `committeeInfo`: the code's dimensions and each member with its shards and stake. */
export async function committeeInfo(chain: Chain, s: SystemState) {
  const cfg = new EncodingConfig(s.nShards);
  const nodes = new Map((await chain.nodes()).map((n) => [n.nodeId, n]));
  const members = (c: CommitteeInfo) =>
    [...c.members]
      .sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()))
      .map((m) => ({
        name: m.name,
        networkAddress: m.networkAddress,
        publicKey: Buffer.from(m.publicKey).toString('base64'),
        nShards: m.shards.length,
        shardIds: [...m.shards],
        nodeId: m.nodeId,
        stake: Number(nodes.get(m.nodeId)?.stake ?? 0n),
      }));
  return {
    nShards: s.nShards,
    nPrimarySourceSymbols: cfg.primarySymbols,
    nSecondarySourceSymbols: cfg.secondarySymbols,
    maxSliverSize: cfg.primarySliverBytes(cfg.scheme.maxSymbolSize),
    metadataStorageSize: s.nShards * metadataLength(s.nShards),
    maxEncodedBlobSize: cfg.encodedBlobLength(cfg.maxBlobSize),
    storageNodes: members(s.committee),
    nextStorageNodes: null,
  };
}

/**
 * `bftInfo`: f, n − f, the quorum 2f + 1, and the fewest nodes whose shards together exceed f
 * (`minNodesAbove`, with their shard count `shardsAbove`): that many nodes failing can lose data.
 */
export function bftInfo(s: SystemState) {
  const f = Math.floor((s.nShards - 1) / 3);
  const weights = s.committee.members.map((m) => m.shards.length).sort((a, b) => b - a);
  let minNodesAbove = 0,
    shardsAbove = 0;
  for (const w of weights) {
    if (shardsAbove > f) break;
    shardsAbove += w;
    minNodesAbove++;
  }
  return { maxFaultyShards: f, minCorrectShards: s.nShards - f, quorumThreshold: 2 * f + 1, minNodesAbove, shardsAbove };
}

/** Options of `systemInfo`. */
export interface SystemInfoOptions {
  /** Add `committeeInfo` and `bftInfo` (Walrus's `info all`). */
  readonly all?: boolean;
}

/** Walrus's `InfoOutput`: the four basic sections, and with `all` the committee and BFT ones. */
export async function systemInfo(chain: Chain, options: SystemInfoOptions = {}) {
  const s = await chain.systemState();
  return {
    epochInfo: epochInfo(s),
    storageInfo: storageInfo(s),
    sizeInfo: sizeInfo(s),
    priceInfo: priceInfo(s),
    ...(options.all ? { committeeInfo: await committeeInfo(chain, s), bftInfo: bftInfo(s) } : {}),
  };
}

/** One section, as `walrus info <section> --json` prints it. */
export async function systemInfoSection(chain: Chain, section: InfoSection) {
  const s = await chain.systemState();
  switch (section) {
    case 'epoch':
      return epochInfo(s);
    case 'storage':
      return storageInfo(s);
    case 'size':
      return sizeInfo(s);
    case 'price':
      return priceInfo(s);
    case 'committee':
      return committeeInfo(chain, s);
    case 'bft':
      return bftInfo(s);
  }
}
