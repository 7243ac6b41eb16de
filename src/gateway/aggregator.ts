/**
 * Aggregator routes (walrus-http.md §2): `GET /v1/blobs/{blob_id}`, `/v1/blobs/by-object-id/{id}`
 * and `/v1/blobs/{blob_id}/byte-range`, with Walrus's headers, ETags, Content-Type mirroring,
 * attribute headers and error envelope — plus full RFC 9110 single ranges, If-Range,
 * If-None-Match → 304, HEAD without a node read, a no-store 404, the on-disk cache, and bodies
 * streamed row by row as verified slivers arrive.
 */
import { createReadStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { blobIdFromString, blobIdToString, type BlobId } from '../codec/blob-id.ts';
import type { BlobObject, Chain } from '../chain/types.ts';
import { ApiError, CORS_HEADERS, drained, PlainError, type QueryParam } from './http.ts';
import type { RouteContext, RouteDefinition } from './route-table.ts';
import { BlobReader, ifNoneMatchMatches, ifRangeAllows, parseRange, type BlobLayout, type ByteRange } from './ranges.ts';
import type { BlobCache } from './cache.ts';
import type { GatewayMetrics } from './metrics.ts';

/** Walrus's default `--allowed-headers` (attribute keys that become response headers). */
export const DEFAULT_ALLOWED_HEADERS = [
  'content-type',
  'authorization',
  'content-disposition',
  'content-encoding',
  'content-language',
  'content-location',
  'link',
];

/** Walrus's Cache-Control on successful reads (§2.2). */
export const SUCCESS_CACHE_CONTROL = 'public, max-age=86400, stale-while-revalidate=3600';

/** What the aggregator routes need. */
export interface AggregatorContext {
  readonly chain: Chain;
  readonly reader: BlobReader;
  readonly cache: BlobCache | null;
  readonly metrics: GatewayMetrics;
  /** Lower-case header names an on-chain attribute may set. */
  readonly allowedHeaders: readonly string[];
  /** Refuse blobs above this size with 403 BLOB_TOO_LARGE. */
  readonly maxBlobSize?: number;
  /** Blocked blob IDs (451 FORBIDDEN_BLOB). */
  readonly blocklist: ReadonlySet<string>;
  /** Cache-Control of a 404 (default `no-store`, so a CDN does not pin a miss). */
  readonly notFoundCacheControl: string;
  /**
   * After this many range requests of a blob that is not cached, the whole blob is read into the
   * cache in the background, so further ranges of a hot blob are served without the nodes
   * (0: never; a single range never downloads the blob).
   */
  readonly cacheFillAfterRanges: number;
}

const CONSISTENCY: QueryParam[] = [
  {
    name: 'strict_consistency_check',
    type: 'boolean',
    description:
      'Re-encode the whole blob and compare with its ID (Tusk: every sliver that is sent is verified against the metadata in every mode).',
  },
  {
    name: 'skip_consistency_check',
    type: 'boolean',
    description: 'Skip the consistency check (Tusk still verifies every sliver it sends).',
  },
];

const READ_RESPONSES = {
  200: 'The blob (body streamed as slivers are verified).',
  206: 'The requested range (Range header), with Content-Range.',
  304: 'If-None-Match matched the ETag.',
  400: 'Malformed ID or query (plain text), or INVALID_CONSISTENCY_CHECK.',
  403: 'BLOB_TOO_LARGE.',
  404: 'BLOB_NOT_FOUND (Cache-Control: no-store).',
  416: 'INVALID_BYTE_RANGE: the range is unsatisfiable (Content-Range: bytes */size).',
  429: 'Too many requests (plain text).',
  451: 'FORBIDDEN_BLOB.',
  500: 'INTERNAL_ERROR.',
  503: 'BLOB_UNAVAILABLE: not enough slivers could be read now.',
} as const;

const RANGE_HEADERS = [
  { name: 'Range', description: 'RFC 9110 single byte range: bytes=a-b, bytes=a-, bytes=-n.' },
  { name: 'If-Range', description: 'Honour Range only if this ETag matches.' },
  { name: 'If-None-Match', description: 'ETag(s): 304 when one matches.' },
  { name: 'Accept', description: 'Mirrored as Content-Type when it contains no `*`.' },
];

/** The aggregator's route definitions. */
export function aggregatorRoutes(ctx: AggregatorContext): RouteDefinition[] {
  return [
    {
      method: 'GET',
      path: '/v1/blobs/{blob_id}',
      operationId: 'getBlob',
      tag: 'aggregator',
      admission: 'aggregator',
      summary: 'Read a blob by its blob ID.',
      pathParams: [{ name: 'blob_id', description: 'URL-safe base64 blob ID (43 characters).' }],
      query: CONSISTENCY,
      headers: RANGE_HEADERS,
      responses: READ_RESPONSES,
      handle: async (rc) => {
        const id = parseBlobId(rc.params.blob_id);
        checkConsistencyFlags(rc);
        const blob = await certifiedBlob(ctx, id);
        await serveBlob(ctx, rc, id, blob, {});
      },
    },
    {
      method: 'GET',
      path: '/v1/blobs/by-object-id/{blob_object_id}',
      operationId: 'getBlobByObjectId',
      tag: 'aggregator',
      admission: 'aggregator',
      summary: 'Read a blob by the Sui object ID of its Blob object; allow-listed attributes become headers.',
      pathParams: [{ name: 'blob_object_id', description: '0x-prefixed object ID of the Blob object.' }],
      query: CONSISTENCY,
      headers: RANGE_HEADERS,
      responses: READ_RESPONSES,
      handle: async (rc) => {
        const objectId = rc.params.blob_object_id;
        if (!/^0x[0-9a-fA-F]{1,64}$/.test(objectId)) throw new PlainError(400, `Invalid URL: cannot parse \`${objectId}\` as an object ID`);
        checkConsistencyFlags(rc);
        const blob = await ctx.chain.getBlob(normalizeObjectId(objectId));
        const epoch = (await ctx.chain.committee()).epoch;
        if (!blob || blob.certifiedEpoch === null || blob.storage.endEpoch <= epoch) throw notFound();
        checkBlocked(ctx, blobIdToString(blob.blobId));
        await serveBlob(ctx, rc, blob.blobId, blob, attributeHeaders(ctx, blob));
      },
    },
    {
      method: 'GET',
      path: '/v1/blobs/{blob_id}/byte-range',
      operationId: 'getBlobByteRange',
      tag: 'aggregator',
      admission: 'aggregator',
      summary: 'Read `length` bytes from `start` (200, cacheable by path and query; reads only the slivers holding them).',
      pathParams: [{ name: 'blob_id', description: 'URL-safe base64 blob ID.' }],
      query: [
        { name: 'start', type: 'integer', required: true, description: 'First byte.' },
        { name: 'length', type: 'integer', required: true, description: 'Number of bytes (> 0).' },
      ],
      responses: {
        200: 'The bytes.',
        400: 'INVALID_BYTE_RANGE or malformed query.',
        403: 'BLOB_TOO_LARGE.',
        404: 'BLOB_NOT_FOUND.',
        429: 'Too many requests.',
        451: 'FORBIDDEN_BLOB.',
        500: 'Read failure.',
      },
      handle: async (rc) => {
        const id = parseBlobId(rc.params.blob_id);
        const start = rc.query.start as bigint,
          length = rc.query.length as bigint;
        if (length === 0n) throw new ApiError('INVALID_ARGUMENT', 'INVALID_BYTE_RANGE', 'length must be greater than 0');
        const blob = await certifiedBlob(ctx, id);
        if (start + length > BigInt(blob.size))
          throw new ApiError('INVALID_ARGUMENT', 'INVALID_BYTE_RANGE', `range ${start}+${length} exceeds the blob size ${blob.size}`);
        checkSize(ctx, blob.size);
        const range = { start: Number(start), end: Number(start + length) - 1 };
        const headers = successHeaders(rc.req, `${blobIdToString(id)}-${start}-${length}`);
        await sendRange(ctx, rc, id, blob, range, 200, { ...headers, 'content-length': String(length) });
      },
    },
  ];
}

/** Parses a blob ID path segment (400 plain text, as axum's path rejection). */
export function parseBlobId(text: string): BlobId {
  try {
    if (!/^[A-Za-z0-9_-]{43}$/.test(text)) throw new Error();
    return blobIdFromString(text);
  } catch {
    throw new PlainError(400, `Invalid URL: cannot parse \`${text}\` as a blob ID`);
  }
}

function checkConsistencyFlags(rc: RouteContext): void {
  if (rc.query.strict_consistency_check === true && rc.query.skip_consistency_check === true) {
    throw new ApiError(
      'INVALID_ARGUMENT',
      'INVALID_CONSISTENCY_CHECK',
      'strict_consistency_check and skip_consistency_check cannot both be set',
    );
  }
}

function notFound(): ApiError {
  return new ApiError('NOT_FOUND', 'BLOB_NOT_FOUND', 'the requested blob has not been found');
}

function checkBlocked(ctx: AggregatorContext, id: string): void {
  if (ctx.blocklist.has(id)) throw new ApiError('UNAVAILABLE_FOR_LEGAL_REASONS', 'FORBIDDEN_BLOB', 'the requested blob is blocked');
}

function checkSize(ctx: AggregatorContext, size: number): void {
  if (ctx.maxBlobSize !== undefined && size > ctx.maxBlobSize)
    throw new ApiError('SIZE_EXCEEDED', 'BLOB_TOO_LARGE', `the blob is ${size} bytes, above this aggregator's limit of ${ctx.maxBlobSize}`);
}

function normalizeObjectId(id: string): string {
  return `0x${id.slice(2).toLowerCase().padStart(64, '0')}`;
}

/**
 * How long a positive status answer is reused (ms): a hot blob costs the chain one lookup per
 * interval instead of one per request. Misses are never remembered (a blob certified a moment ago
 * must be readable at once); a deleted or expired blob may still be served for this long.
 */
const STATUS_TTL_MS = 2000;
const statusCache = new WeakMap<AggregatorContext, Map<string, { blob: BlobObject; until: number }>>();

/** A live certified Blob object carrying `id` (404 BLOB_NOT_FOUND if none; 451 if blocked). */
async function certifiedBlob(ctx: AggregatorContext, id: BlobId): Promise<BlobObject> {
  const key = blobIdToString(id);
  checkBlocked(ctx, key);
  let cache = statusCache.get(ctx);
  if (!cache) statusCache.set(ctx, (cache = new Map()));
  const hit = cache.get(key);
  if (hit && hit.until > Date.now()) return hit.blob;
  const [objects, committee] = await Promise.all([ctx.chain.blobObjects(id), ctx.chain.committee()]);
  const live = objects.filter((b) => b.certifiedEpoch !== null && b.storage.endEpoch > committee.epoch);
  if (live.length === 0) {
    cache.delete(key);
    throw notFound();
  }
  if (cache.size >= 10_000) cache.delete(cache.keys().next().value!);
  cache.set(key, { blob: live[0], until: Date.now() + STATUS_TTL_MS });
  return live[0];
}

/** Walrus's success headers (§2.2) plus Accept-Ranges. */
function successHeaders(req: IncomingMessage, etag: string): Record<string, string> {
  const h: Record<string, string> = {
    ...CORS_HEADERS,
    'x-content-type-options': 'nosniff',
    'cache-control': SUCCESS_CACHE_CONTROL,
    etag,
    'accept-ranges': 'bytes',
  };
  const accept = req.headers.accept;
  if (accept !== undefined && !accept.includes('*')) h['content-type'] = accept;
  else if ((req.method === 'GET' || req.method === 'HEAD') && req.headers['content-type'] !== undefined)
    h['content-type'] = req.headers['content-type'];
  return h;
}

/** Allow-listed attributes of a Blob object as headers (never overriding one already set). */
function attributeHeaders(ctx: AggregatorContext, blob: BlobObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(blob.attributes)) {
    const name = k.toLowerCase();
    if (!name || !ctx.allowedHeaders.includes(name) || !/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name) || /[\r\n\0]/.test(v)) continue;
    out[name] = v;
  }
  return out;
}

/** GET/HEAD of a whole blob or a Range of it. */
async function serveBlob(
  ctx: AggregatorContext,
  rc: RouteContext,
  id: BlobId,
  blob: BlobObject,
  extra: Record<string, string>,
): Promise<void> {
  checkSize(ctx, blob.size);
  const etag = blobIdToString(id);
  const base = successHeaders(rc.req, etag);
  for (const [k, v] of Object.entries(extra)) if (!(k in base)) base[k] = v;
  if (ifNoneMatchMatches(rc.req.headers['if-none-match'] as string | undefined, etag)) {
    const { 'content-type': _ct, ...h } = base;
    rc.res.writeHead(304, h).end();
    return;
  }
  const size = blob.size;
  const range = ifRangeAllows(rc.req.headers['if-range'] as string | undefined, etag) ? parseRange(rc.req.headers.range, size) : null;
  if (range === 'unsatisfiable') {
    throw new ApiError(
      'RANGE_NOT_SATISFIABLE',
      'INVALID_BYTE_RANGE',
      `the range ${rc.req.headers.range} is not satisfiable for a blob of ${size} bytes`,
      { headers: { 'content-range': `bytes */${size}` } },
    );
  }
  if (range) {
    await sendRange(ctx, rc, id, blob, range, 206, {
      ...base,
      'content-range': `bytes ${range.start}-${range.end}/${size}`,
      'content-length': String(range.end - range.start + 1),
    });
    return;
  }
  const headers = { ...base, 'content-length': String(size) };
  if (size === 0) {
    rc.res.writeHead(200, headers).end();
    return;
  }
  await sendRange(ctx, rc, id, blob, { start: 0, end: size - 1 }, 200, headers);
}

/**
 * Sends bytes `range` of the blob with `status` and `headers`: from the cache when held, else from
 * the nodes (a full read also fills the cache). HEAD sends the headers only.
 */
async function sendRange(
  ctx: AggregatorContext,
  rc: RouteContext,
  id: BlobId,
  blob: BlobObject,
  range: ByteRange,
  status: number,
  headers: Record<string, string>,
): Promise<void> {
  const { res } = rc;
  const key = blobIdToString(id);
  if (rc.req.method === 'HEAD') {
    res.writeHead(status, headers).end();
    return;
  }
  const cached = ctx.cache?.lookup(key);
  if (cached) {
    ctx.metrics.cacheHits.inc();
    res.writeHead(status, headers);
    try {
      for await (const chunk of createReadStream(cached, {
        start: range.start,
        end: range.end,
        signal: rc.signal,
        highWaterMark: 256 * 1024,
      })) {
        if (!res.write(chunk)) await drained(res, rc.signal);
      }
      res.end();
    } catch {
      res.destroy();
    }
    return;
  }
  ctx.metrics.cacheMisses.inc();
  let layout: BlobLayout;
  try {
    layout = await ctx.reader.layout(id, rc.signal);
  } catch (e) {
    if (rc.signal.aborted) throw e;
    throw new ApiError('UNAVAILABLE', 'BLOB_UNAVAILABLE', `the blob cannot be read now: ${(e as Error).message}`);
  }
  if (layout.size !== blob.size) throw new ApiError('INTERNAL', 'INTERNAL_ERROR', 'metadata size differs from the Blob object');
  const whole = range.start === 0 && range.end === blob.size - 1;
  if (!whole) noteRangeMiss(ctx, id, layout);
  const writer = whole && ctx.cache?.accepts(blob.size) ? ctx.cache.writer(key, blob.size) : null;
  const chunks = ctx.reader.read(id, layout, range, rc.signal);
  // The first chunk decides between a clean 503 and a started 200/206.
  let first: IteratorResult<Uint8Array>;
  try {
    first = await chunks.next();
  } catch (e) {
    await writer?.abort();
    if (rc.signal.aborted) throw e;
    throw new ApiError('UNAVAILABLE', 'BLOB_UNAVAILABLE', `the blob cannot be read now: ${(e as Error).message}`);
  }
  res.writeHead(status, headers);
  try {
    async function* all() {
      if (!first.done) yield first.value;
      yield* chunks;
    }
    for await (const chunk of all()) {
      await writer?.write(chunk);
      if (!res.write(chunk)) await drained(res, rc.signal);
    }
    res.end();
    await writer?.commit();
  } catch (e) {
    await writer?.abort();
    res.destroy(); // headers are out: cut the connection so the client sees a truncated body
    if (!rc.signal.aborted) throw e;
  }
}

/** Per aggregator: range misses per blob, and the background cache fills running. */
const fills = new WeakMap<AggregatorContext, { misses: Map<string, number>; running: Set<string> }>();

/** Counts a range miss; at `cacheFillAfterRanges`, reads the whole blob into the cache in the background. */
function noteRangeMiss(ctx: AggregatorContext, id: BlobId, layout: BlobLayout): void {
  const cache = ctx.cache;
  if (!cache || ctx.cacheFillAfterRanges <= 0 || !cache.accepts(layout.size)) return;
  let state = fills.get(ctx);
  if (!state) fills.set(ctx, (state = { misses: new Map(), running: new Set() }));
  const key = blobIdToString(id);
  if (state.running.has(key)) return;
  const n = (state.misses.get(key) ?? 0) + 1;
  if (n < ctx.cacheFillAfterRanges) {
    if (state.misses.size >= 10_000) state.misses.delete(state.misses.keys().next().value!);
    state.misses.set(key, n);
    return;
  }
  state.misses.delete(key);
  state.running.add(key);
  const { running } = state;
  void (async () => {
    const writer = cache.writer(key, layout.size);
    try {
      for await (const chunk of ctx.reader.read(id, layout, { start: 0, end: layout.size - 1 })) await writer.write(chunk);
      await writer.commit();
    } catch {
      await writer.abort(); // the next misses will try again
    } finally {
      running.delete(key);
    }
  })();
}
