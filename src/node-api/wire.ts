/**
 * The storage-node REST API v1 as both ends see it (walrus-protocol.md §5): the route table, the
 * path builders the client uses for the same routes, the JSON wire types and the size caps.
 * The server (src/node/routes.ts) registers `NODE_ROUTES`; the client (./client.ts) builds its
 * URLs with `nodePaths`; a path changed here changes on both ends at once. Error envelopes and
 * reasons live in ./errors.ts.
 */
import { blobIdToString, type BlobId } from '../codec/blob-id.ts';
import { EncodingConfig } from '../codec/config.ts';
import { ENCODINGS } from '../codec/encodings/index.ts';
import type { SliverAxis } from '../codec/sliver.ts';
import { TuskInputError } from '../errors.ts';

/** The v1 routes (fastify patterns), numbered as in walrus-protocol.md §5. */
export const NODE_ROUTES = {
  /** 1–3: PUT/GET metadata, GET its status (`/status` appended). */
  metadata: '/v1/blobs/:blobId/metadata',
  metadataStatus: '/v1/blobs/:blobId/metadata/status',
  /** 4–6: PUT/GET a sliver, GET its status. */
  sliver: '/v1/blobs/:blobId/slivers/:pair/:axis',
  sliverStatus: '/v1/blobs/:blobId/slivers/:pair/:axis/status',
  /** 7–8: signed confirmations. */
  permanentConfirmation: '/v1/blobs/:blobId/confirmation/permanent',
  deletableConfirmation: '/v1/blobs/:blobId/confirmation/deletable/:objectId',
  /** 9: recovery symbols (`id=P-S`… or `targetSliver=&targetType=`). */
  recoverySymbols: '/v1/blobs/:blobId/recoverySymbols',
  /** 10: decoding symbols. */
  decodingSymbols: '/v1/blobs/:blobId/decodingSymbols',
  /** 11: inconsistency proof. */
  inconsistencyProof: '/v1/blobs/:blobId/inconsistencyProof/:axis',
  /** 12: blob status. */
  blobStatus: '/v1/blobs/:blobId/status',
  /** 13: health. */
  health: '/v1/health',
} as const;

function blobPath(blobId: BlobId): string {
  return `/v1/blobs/${blobIdToString(blobId)}`;
}

/** Checks a pair/sliver index is a u16. @throws TuskInputError */
function u16(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) throw new TuskInputError(`${what} ${value} is not a u16`);
  return value;
}

/** Checks a sliver axis. @throws TuskInputError */
function axisOf(axis: SliverAxis): SliverAxis {
  if (axis !== 'primary' && axis !== 'secondary') throw new TuskInputError(`sliver axis must be primary or secondary, got ${String(axis)}`);
  return axis;
}

/** Concrete paths of {@link NODE_ROUTES} (no host; append to the node's base URL). */
export const nodePaths = {
  metadata: (blobId: BlobId): string => `${blobPath(blobId)}/metadata`,
  metadataStatus: (blobId: BlobId): string => `${blobPath(blobId)}/metadata/status`,
  /** @throws TuskInputError for a pair index that is not a u16 or an unknown axis. */
  sliver: (blobId: BlobId, pairIndex: number, axis: SliverAxis): string =>
    `${blobPath(blobId)}/slivers/${u16(pairIndex, 'pair index')}/${axisOf(axis)}`,
  sliverStatus: (blobId: BlobId, pairIndex: number, axis: SliverAxis): string => `${nodePaths.sliver(blobId, pairIndex, axis)}/status`,
  /** `deletable` takes the Blob object ID (0x-hex). */
  confirmation: (blobId: BlobId, kind: ConfirmationKind): string =>
    `${blobPath(blobId)}/confirmation/` + (kind.kind === 'permanent' ? 'permanent' : `deletable/${kind.objectId}`),
  /** The target form: the symbols that rebuild sliver `target` of `axis` (one per sliver the node holds). */
  recoverySymbols: (blobId: BlobId, target: number, axis: SliverAxis): string =>
    `${blobPath(blobId)}/recoverySymbols?targetSliver=${u16(target, 'target sliver')}&targetType=${axisOf(axis)}`,
  /**
   * The ID-list form (Walrus's `id=P-S`, repeatable): the symbols at the intersections (primary P,
   * secondary S), proven in the tree of the `proofAxis` sliver. @throws TuskInputError for an empty
   * list or an index that is not a u16.
   */
  recoverySymbolsById: (blobId: BlobId, ids: readonly SymbolId[], proofAxis: SliverAxis): string => {
    if (ids.length === 0) throw new TuskInputError('at least one symbol ID is needed');
    const list = ids.map((id) => `id=${u16(id.primary, 'primary index')}-${u16(id.secondary, 'secondary index')}`).join('&');
    return `${blobPath(blobId)}/recoverySymbols?${list}&proofAxis=${axisOf(proofAxis)}`;
  },
  blobStatus: (blobId: BlobId): string => `${blobPath(blobId)}/status`,
  health: (): string => NODE_ROUTES.health,
} as const;

/** Whether a node has a blob's metadata or a sliver (Walrus's `StoredOnNodeStatus`, camelCase). */
export type StoredOnNodeStatus = 'nonexistent' | 'buffered' | 'stored';

/** What a PUT did: stored now (201), buffered until registration (202), already there (200). */
export type UploadOutcome = 'stored' | 'buffered' | 'alreadyStored';

/** A signed message as the API sends it: `{"signed":{serializedMessage,signature}}`, base64 with padding. */
export interface SignedMessageJson {
  serializedMessage: string;
  signature: string;
}

/** A node's signed storage confirmation (or invalid-blob attestation), decoded from {@link SignedMessageJson}. */
export interface SignedNodeMessage {
  readonly serializedMessage: Uint8Array;
  readonly signature: Uint8Array;
}

/** Which confirmation to ask for: permanent, or deletable for the Blob object `objectId`. */
export type ConfirmationKind = { kind: 'permanent' } | { kind: 'deletable'; objectId: string };

/** A node's view of a blob's status (`BlobStatus` JSON, §5 route 12), as the node sent it. */
export type NodeBlobStatus =
  | 'nonexistent'
  | { invalid: { event: { txDigest: string; eventSeq: string } } }
  | {
      permanent: {
        endEpoch: number;
        isCertified: boolean;
        initialCertifiedEpoch?: number | null;
        deletableCounts: { count_deletable_total: number; count_deletable_certified: number };
      };
    }
  | {
      deletable: {
        initialCertifiedEpoch?: number | null;
        deletableCounts: { count_deletable_total: number; count_deletable_certified: number };
      };
    };

/** Largest BCS answer a reader accepts by default (above the largest sliver of any committee). */
export const MAX_BCS_BYTES = 64 * 2 ** 20;
/** Largest JSON answer a reader accepts by default. */
export const MAX_JSON_BYTES = 2 ** 20;

/**
 * Body limit for a sliver PUT: the largest primary sliver of the committee (k_s · max symbol size,
 * plus its ULEB length and the 4-byte trailer) and 1 KiB of headroom.
 */
export function sliverBodyLimit(nShards: number): number {
  const cfg = new EncodingConfig(nShards);
  return cfg.secondarySymbols * maxSymbolSizeFor(nShards) + 1024;
}

/** The largest symbol of any encoding the node accepts on a committee of `nShards` (RS8: 65535, RS2: 65534). */
function maxSymbolSizeFor(nShards: number): number {
  return Math.max(...ENCODINGS.filter((e) => nShards <= e.maxShards).map((e) => e.maxSymbolSize));
}

/** Body limit for a metadata PUT: version, type, length, ULEB count and n pair hashes, plus headroom. */
export function metadataBodyLimit(nShards: number): number {
  return 1 + 1 + 8 + 5 + 66 * nShards + 1024;
}

/**
 * Body limit for an inconsistency proof: at most k_s symbols of the max size, each with a
 * DecodingSymbol header and a Merkle proof of ⌈log2 n⌉ nodes (33 bytes each), plus headroom.
 */
export function proofBodyLimit(nShards: number): number {
  const cfg = new EncodingConfig(nShards);
  const depth = Math.ceil(Math.log2(Math.max(2, nShards)));
  return 2 + 5 + cfg.secondarySymbols * (2 + 5 + maxSymbolSizeFor(nShards) + 5 + 33 * depth) + 1024;
}

/**
 * Largest target-form recovery-symbols answer for symbols of `symbolSize` bytes in a committee of
 * `nShards`: one symbol per orthogonal sliver the node holds (at most n), each with a proof of
 * ⌈log2 n⌉ + 1 nodes of ≤ 33 bytes and a few bytes of framing. `count`: the ID-list form's
 * answer for that many symbol IDs (default n).
 */
export function recoverySymbolsAnswerLimit(nShards: number, symbolSize: number, count = nShards): number {
  return count * (symbolSize + 64 + 33 * (Math.ceil(Math.log2(nShards)) + 2)) + 64;
}

/** A symbol's ID: the intersection (primary sliver index, secondary sliver index), text `"P-S"`. */
export interface SymbolId {
  readonly primary: number;
  readonly secondary: number;
}

/** Largest metadata answer: 32-byte ID + encoding type + 2n hash pairs (2 × 32 bytes + tags) + length, far below 256 B per shard. */
export function metadataAnswerLimit(nShards: number): number {
  return 1024 + 256 * nShards;
}
