/**
 * Quilt routes of the gateway, Walrus-identical (walrus-http.md §1.3, §1.4, §2.2, §2.5):
 * `PUT /v1/quilts` (multipart form: every field but `_metadata` is one patch named by the field
 * name; `_metadata` is a JSON array of `{identifier, tags}`) answering Walrus's
 * `QuiltStoreResult`; `GET /v1/blobs/by-quilt-patch-id/{id}`, `GET
 * /v1/blobs/by-quilt-id/{quilt_id}/{identifier}` (the patch's bytes, ETag = the quilt ID,
 * `X-Quilt-Patch-Identifier`) and `GET /v1/quilts/{quilt_id}/patches` (the index as JSON).
 *
 * Reads fetch only the patch's columns (quilt/client.ts); the quilt's Blob object must be
 * certified and live, as for `/v1/blobs/{id}`.
 */
import type { IncomingMessage } from 'node:http';
import type { Signer } from '@mysten/sui/cryptography';
import { blobIdToString, type BlobId } from '../codec/blob-id.ts';
import { EncodingConfig } from '../codec/config.ts';
import type { TaskRunner } from '../codec/tasks.ts';
import type { Chain } from '../chain/types.ts';
import { ChainAbortError, NotEnoughConfirmationsError, TuskError, TuskInputError } from '../errors.ts';
import { QuiltFormatError } from '../quilt/format.ts';
import { parseQuiltPatchId } from '../quilt/patch-id.ts';
import { QuiltTooLargeError, type QuiltBlobInput } from '../quilt/quilt-encode.ts';
import { listQuiltPatches, quiltStoreResultJson, readQuiltPatch, storeQuilt, walrusPatchList, type QuiltPatch } from '../quilt/client.ts';
import { SUCCESS_CACHE_CONTROL, parseBlobId } from './aggregator.ts';
import { ApiError, CORS_HEADERS, PlainError, sendJson } from './http.ts';
import { PUBLISHER_QUERY } from './publisher.ts';
import type { RouteContext, RouteDefinition } from './route-table.ts';

/** Walrus's default `--max-quilt-body-size` (100 MiB). */
export const DEFAULT_MAX_QUILT_BODY_SIZE = 100 * 2 ** 20;

/** What the quilt publisher route needs. */
export interface QuiltPublisherContext {
  readonly chain: Chain;
  readonly signer: Signer;
  readonly pool?: TaskRunner;
  readonly maxQuiltBodySize: number;
  readonly nodeTimeoutMs?: number;
  readonly storeRetries?: number;
  readonly background: Set<Promise<unknown>>;
}

/** What the quilt read routes need. */
export interface QuiltAggregatorContext {
  readonly chain: Chain;
  readonly pool?: TaskRunner;
  readonly nodeTimeoutMs?: number;
  /** Lower-case tag names that may become response headers (Walrus's `--allowed-headers`). */
  readonly allowedHeaders: readonly string[];
  readonly blocklist: ReadonlySet<string>;
}

/** `PUT /v1/quilts`. */
export function quiltPublisherRoutes(ctx: QuiltPublisherContext): RouteDefinition[] {
  return [
    {
      method: 'PUT',
      path: '/v1/quilts',
      operationId: 'putQuilt',
      tag: 'publisher',
      admission: 'publisher',
      summary: 'Store the fields of a multipart form as one quilt (identifier = field name; `_metadata` = JSON tags).',
      query: PUBLISHER_QUERY,
      requestBody: { contentType: 'multipart/form-data', description: 'One field per patch, plus an optional `_metadata` field.' },
      responses: {
        200: 'QuiltStoreResult: blobStoreResult and storedQuiltBlobs.',
        400: 'MALFORMED_REQUEST (bad form, identifiers, metadata, too many patches), or a bad query (plain text).',
        413: 'Body over --max-quilt-body-size (plain text).',
        429: 'Too many requests (plain text).',
        500: 'INTERNAL_ERROR.',
        504: 'INSUFFICIENT_CONFIRMATIONS.',
      },
      handle: async (rc) => {
        const q = rc.query;
        const epochs = q.epochs === undefined ? 1 : Number(q.epochs as bigint);
        if (epochs > 2 ** 32 - 1)
          throw new PlainError(400, 'Failed to deserialize query string: epochs: number too large to fit in target type');
        if (q.encoding_type !== undefined && q.encoding_type !== 'RS2')
          throw new PlainError(400, `Failed to deserialize query string: encoding_type: unsupported encoding type \`${q.encoding_type}\``);
        if (q.deletable === true && q.permanent === true)
          throw new ApiError('INVALID_ARGUMENT', 'INVALID_BLOB_PERSISTENCE', 'a blob cannot be both deletable and permanent');
        if (q.share === true)
          throw new ApiError('INVALID_ARGUMENT', 'UNSUPPORTED_OPERATION', 'shared blobs are not supported by this publisher');
        if (q.send_object_to !== undefined)
          throw new ApiError('INVALID_ARGUMENT', 'UNSUPPORTED_OPERATION', 'send_object_to is not supported on /v1/quilts by Tusk yet');
        if (epochs < 1) throw new ApiError('INVALID_ARGUMENT', 'INVALID_EPOCHS', 'epochs must be at least 1');
        const body = await receiveAll(rc.req, ctx.maxQuiltBodySize, rc.signal);
        const blobs = await parseQuiltForm(rc.req.headers['content-type'], body);
        try {
          const r = await storeQuilt(blobs, {
            chain: ctx.chain,
            signer: ctx.signer,
            epochs,
            deletable: q.permanent !== true,
            pool: ctx.pool,
            nodeTimeoutMs: ctx.nodeTimeoutMs,
            retries: ctx.storeRetries,
            reuseExisting: q.force !== true,
            attributes: { _walrusBlobType: 'quilt' },
            signal: rc.signal,
          });
          ctx.background.add(r.blobStoreResult.background);
          r.blobStoreResult.background.finally(() => ctx.background.delete(r.blobStoreResult.background)).catch(() => {});
          const blob = await ctx.chain.getBlob(r.blobStoreResult.blobObjectId);
          if (!blob) throw new Error('the certified Blob object of the quilt is missing');
          const encodedLength = new EncodingConfig(r.nShards).encodedBlobLength(r.blobStoreResult.unencodedLength);
          sendJson(rc.res, 200, quiltStoreResultJson(r, blob, encodedLength, epochs));
        } catch (e) {
          if (e instanceof QuiltTooLargeError || e instanceof QuiltFormatError)
            throw new ApiError('INVALID_ARGUMENT', 'MALFORMED_REQUEST', `failed to construct quilt: ${e.message}`);
          if (e instanceof NotEnoughConfirmationsError)
            throw new ApiError(
              'DEADLINE_EXCEEDED',
              'INSUFFICIENT_CONFIRMATIONS',
              `could not collect a quorum of storage confirmations: ${e.message}`,
            );
          if (e instanceof ChainAbortError && e.code === 'EInsufficientFunds')
            throw new ApiError(
              'FAILED_PRECONDITION',
              'INSUFFICIENT_FUNDS',
              `the publisher's wallet cannot pay for this store: ${e.message}`,
            );
          if (e instanceof TuskInputError)
            throw new ApiError('INVALID_ARGUMENT', 'MALFORMED_REQUEST', `failed to construct quilt: ${e.message}`);
          throw e;
        }
      },
    },
  ];
}

/** The quilt read routes. */
export function quiltAggregatorRoutes(ctx: QuiltAggregatorContext): RouteDefinition[] {
  const responses = {
    200: 'The patch bytes (X-Quilt-Patch-Identifier names it; ETag is the quilt ID).',
    304: 'If-None-Match matched the ETag.',
    400: 'Malformed ID (plain text).',
    404: 'BLOB_NOT_FOUND, or QUILT_PATCH_NOT_FOUND.',
    451: 'FORBIDDEN_BLOB.',
    500: 'INTERNAL_ERROR (e.g. the blob is not a quilt).',
    503: 'BLOB_UNAVAILABLE.',
  };
  return [
    {
      method: 'GET',
      path: '/v1/blobs/by-quilt-patch-id/{quilt_patch_id}',
      operationId: 'getBlobByQuiltPatchId',
      tag: 'aggregator',
      admission: 'aggregator',
      summary: 'Read one quilt patch by its patch ID (only its columns are fetched).',
      pathParams: [{ name: 'quilt_patch_id', description: 'URL-safe base64 quilt patch ID (50 characters).' }],
      query: [],
      responses,
      handle: async (rc) => {
        const id = rc.params.quilt_patch_id;
        let quiltId: BlobId;
        try {
          quiltId = parseQuiltPatchId(id).quiltId;
        } catch {
          throw new PlainError(400, `Invalid URL: cannot parse \`${id}\` as a quilt patch ID`);
        }
        await checkLive(ctx, quiltId);
        const patch = await readPatch(ctx, rc, () => readQuiltPatch(null, { quiltPatchId: id }, readOptions(ctx, rc)));
        sendPatch(ctx, rc, patch);
      },
    },
    {
      method: 'GET',
      path: '/v1/blobs/by-quilt-id/{quilt_id}/{identifier}',
      operationId: 'getBlobByQuiltIdAndIdentifier',
      tag: 'aggregator',
      admission: 'aggregator',
      summary: 'Read one quilt patch by the quilt ID and the identifier (percent-encode `/` in it).',
      pathParams: [
        { name: 'quilt_id', description: 'The quilt ID (blob ID, 43 characters).' },
        { name: 'identifier', description: 'The patch identifier (one path segment).' },
      ],
      query: [],
      responses,
      handle: async (rc) => {
        const quiltId = parseBlobId(rc.params.quilt_id);
        await checkLive(ctx, quiltId);
        const patch = await readPatch(ctx, rc, () => readQuiltPatch(quiltId, { identifier: rc.params.identifier }, readOptions(ctx, rc)));
        sendPatch(ctx, rc, patch);
      },
    },
    {
      method: 'GET',
      path: '/v1/quilts/{quilt_id}/patches',
      operationId: 'listPatchesInQuilt',
      tag: 'aggregator',
      admission: 'aggregator',
      summary: 'The patches of a quilt in index order: [{identifier, patch_id, tags}].',
      pathParams: [{ name: 'quilt_id', description: 'The quilt ID (blob ID, 43 characters).' }],
      query: [],
      responses: { 200: 'JSON list.', 400: 'Malformed ID.', 404: 'BLOB_NOT_FOUND.', 500: 'INTERNAL_ERROR.', 503: 'BLOB_UNAVAILABLE.' },
      handle: async (rc) => {
        const quiltId = parseBlobId(rc.params.quilt_id);
        await checkLive(ctx, quiltId);
        const list = await readPatch(ctx, rc, () => listQuiltPatches(quiltId, readOptions(ctx, rc)));
        sendJson(rc.res, 200, walrusPatchList(list), { 'cache-control': SUCCESS_CACHE_CONTROL });
      },
    },
  ];
}

function readOptions(ctx: QuiltAggregatorContext, rc: RouteContext) {
  return { chain: ctx.chain, pool: ctx.pool, nodeTimeoutMs: ctx.nodeTimeoutMs, signal: rc.signal };
}

/** 451 if blocked, 404 BLOB_NOT_FOUND unless a certified, live Blob object carries the quilt ID. */
async function checkLive(ctx: QuiltAggregatorContext, quiltId: BlobId): Promise<void> {
  const key = blobIdToString(quiltId);
  if (ctx.blocklist.has(key)) throw new ApiError('UNAVAILABLE_FOR_LEGAL_REASONS', 'FORBIDDEN_BLOB', 'the requested blob is blocked');
  const [objects, committee] = await Promise.all([ctx.chain.blobObjects(quiltId), ctx.chain.committee()]);
  if (!objects.some((b) => b.certifiedEpoch !== null && b.storage.endEpoch > committee.epoch))
    throw new ApiError('NOT_FOUND', 'BLOB_NOT_FOUND', 'the requested blob has not been found');
}

/** Runs a quilt read, mapping its failures to Walrus's answers. */
async function readPatch<T>(_ctx: QuiltAggregatorContext, rc: RouteContext, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (e) {
    if (rc.signal.aborted) throw e;
    if (e instanceof QuiltFormatError) throw new ApiError('INTERNAL', 'INTERNAL_ERROR', e.message);
    if (e instanceof TuskInputError) throw new ApiError('NOT_FOUND', 'QUILT_PATCH_NOT_FOUND', e.message);
    if (e instanceof TuskError && e.retryable)
      throw new ApiError('UNAVAILABLE', 'BLOB_UNAVAILABLE', `the quilt cannot be read now: ${e.message}`);
    throw new ApiError('UNAVAILABLE', 'BLOB_UNAVAILABLE', `the quilt cannot be read now: ${(e as Error).message}`);
  }
}

/** Walrus's success headers (§2.2) with the quilt ID as ETag, tag headers and the identifier. */
function sendPatch(ctx: QuiltAggregatorContext, rc: RouteContext, patch: QuiltPatch): void {
  const h: Record<string, string> = {
    ...CORS_HEADERS,
    'x-content-type-options': 'nosniff',
    'cache-control': SUCCESS_CACHE_CONTROL,
    etag: patch.quiltId,
  };
  const accept = rc.req.headers.accept;
  if (accept !== undefined && !accept.includes('*')) h['content-type'] = accept;
  else if (rc.req.headers['content-type'] !== undefined) h['content-type'] = rc.req.headers['content-type'];
  for (const [k, v] of Object.entries(patch.tags)) {
    const name = k.toLowerCase();
    if (!name || name in h || !ctx.allowedHeaders.includes(name) || /[\r\n\0]/.test(v)) continue;
    h[name] = v;
  }
  // Only a valid (ASCII, printable) header value is sent, as the http crate would.
  if (/^[\x20-\x7e]*$/.test(patch.identifier)) h['x-quilt-patch-identifier'] = patch.identifier;
  const inm = rc.req.headers['if-none-match'];
  if (inm !== undefined && inm.split(',').some((t) => t.trim().replace(/^W\//, '').replace(/^"|"$/g, '') === patch.quiltId)) {
    const { 'content-type': _ct, ...rest } = h;
    rc.res.writeHead(304, rest).end();
    return;
  }
  h['content-length'] = String(patch.data.length);
  rc.res.writeHead(200, h);
  rc.res.end(rc.req.method === 'HEAD' ? undefined : patch.data);
}

/** Reads the whole request body (a quilt form is buffered, as Walrus does); 413 over `max`. */
function receiveAll(req: IncomingMessage, max: number, signal: AbortSignal): Promise<Uint8Array> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > max) {
    return Promise.reject(new PlainError(413, `length limit exceeded: the body is ${declared} bytes, the limit is ${max}`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let done = false;
    const fail = (e: unknown) => {
      if (done) return;
      done = true;
      reject(e);
    };
    req.on('data', (c: Buffer) => {
      bytes += c.length;
      if (bytes > max) {
        req.pause();
        fail(new PlainError(413, `length limit exceeded: the body is over the limit of ${max} bytes`));
      } else chunks.push(c);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(new Uint8Array(Buffer.concat(chunks)));
    });
    req.on('error', fail);
    req.on('aborted', () => fail(new Error('client disconnected during the upload')));
    signal.addEventListener('abort', () => fail(signal.reason ?? new Error('client disconnected')), { once: true });
  });
}

function malformed(message: string): ApiError {
  return new ApiError('INVALID_ARGUMENT', 'MALFORMED_REQUEST', `failed to parse multipart form: ${message}`);
}

/**
 * The patches of a `multipart/form-data` body, as Walrus reads it: every field except `_metadata`
 * is a patch named by its field name (the file name is ignored); `_metadata` is a JSON array of
 * `{identifier, tags}` whose string tag values are kept and other JSON values stored as their
 * JSON text. Metadata of unknown identifiers is ignored; a repeated identifier in it is an error.
 * @throws ApiError 400 MALFORMED_REQUEST for anything malformed; 400 when no file is given.
 */
export async function parseQuiltForm(contentType: string | undefined, body: Uint8Array): Promise<QuiltBlobInput[]> {
  if (!contentType || !/^multipart\/form-data\s*;/i.test(contentType))
    throw malformed('the body must be multipart/form-data with a boundary');
  let form: FormData;
  try {
    form = await new Response(body as Uint8Array<ArrayBuffer>, { headers: { 'content-type': contentType } }).formData();
  } catch (e) {
    throw malformed((e as Error).message);
  }
  const patches: { identifier: string; data: Uint8Array }[] = [];
  let metadata: unknown = undefined;
  for (const [name, value] of form.entries()) {
    if (name === '_metadata') {
      const text = typeof value === 'string' ? value : await value.text();
      try {
        metadata = JSON.parse(text);
      } catch (e) {
        throw malformed(`_metadata is not JSON: ${(e as Error).message}`);
      }
      continue;
    }
    const data = typeof value === 'string' ? new TextEncoder().encode(value) : new Uint8Array(await value.arrayBuffer());
    patches.push({ identifier: name, data });
  }
  if (patches.length === 0) throw new ApiError('INVALID_ARGUMENT', 'MALFORMED_REQUEST', 'no files provided in multipart form');
  const tagsOf = new Map<string, Record<string, string>>();
  if (metadata !== undefined) {
    if (!Array.isArray(metadata)) throw malformed('_metadata must be a JSON array of {identifier, tags}');
    for (const m of metadata) {
      if (m === null || typeof m !== 'object' || typeof (m as { identifier?: unknown }).identifier !== 'string')
        throw malformed('each _metadata entry needs a string identifier');
      const { identifier, tags } = m as { identifier: string; tags?: unknown };
      if (tagsOf.has(identifier)) throw malformed(`identifier ${JSON.stringify(identifier)} appears twice in _metadata`);
      if (tags !== undefined && (tags === null || typeof tags !== 'object' || Array.isArray(tags)))
        throw malformed(`tags of ${JSON.stringify(identifier)} must be a JSON object`);
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries((tags ?? {}) as Record<string, unknown>)) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
      tagsOf.set(identifier, out);
    }
  }
  return patches.map((p) => ({ identifier: p.identifier, contents: p.data, tags: tagsOf.get(p.identifier) }));
}
