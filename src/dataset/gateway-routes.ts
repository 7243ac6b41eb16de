/**
 * The aggregator's dataset route, `GET /v1/datasets/{manifest_id}/{path…}` (a Tusk addition):
 * one file of a published dataset by its path, whole or an RFC 9110 byte range (206, across
 * chunk boundaries exactly), streamed as it is verified. Registered through the gateway's route
 * table (`startDaemon({ extraRoutes })`), so admission, CORS, errors and the OpenAPI document are
 * the gateway's. Manifests are content-addressed, so they are kept in a small LRU once parsed.
 *
 * Answers: 200/206 with `ETag: <sha256 of the file>`, `Accept-Ranges`, `Content-Length`,
 * `Content-Range`; 304 on a matching If-None-Match; 400 for a malformed manifest ID (plain text)
 * or a blob that is not a manifest (`INVALID_MANIFEST`); 404 `BLOB_NOT_FOUND` (no such manifest)
 * or `FILE_NOT_FOUND` (no such path); 416 `INVALID_BYTE_RANGE`; 503 `BLOB_UNAVAILABLE`.
 */
import { createHash } from 'node:crypto';
import type { Chain } from '../chain/types.ts';
import { BlobUnavailableError } from '../client/read-blob.ts';
import { blobIdToString } from '../codec/blob-id.ts';
import { parseBlobId, SUCCESS_CACHE_CONTROL } from '../gateway/aggregator.ts';
import { ApiError, CORS_HEADERS, drained } from '../gateway/http.ts';
import { ifNoneMatchMatches, ifRangeAllows, parseRange } from '../gateway/ranges.ts';
import type { BlobReader } from '../client/blob-reader.ts';
import type { RouteDefinition } from '../gateway/route-table.ts';
import { TuskInputError } from '../errors.ts';
import { ManifestError, type DatasetManifest } from './manifest.ts';
import { DatasetReader, loadManifest } from './read-dataset.ts';

/** What the dataset route needs from the gateway. */
export interface DatasetRouteContext {
  readonly chain: Chain;
  /** The gateway's blob reader (shared metadata LRU). */
  readonly reader: BlobReader;
  readonly tempDir?: string;
}

/** Content types by extension (a dataset has no per-file type; the common ones are guessed). */
const TYPES: Record<string, string> = {
  json: 'application/json',
  jsonl: 'application/jsonl',
  txt: 'text/plain; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  html: 'text/html; charset=utf-8',
  parquet: 'application/vnd.apache.parquet',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  tar: 'application/x-tar',
  gz: 'application/gzip',
  zip: 'application/zip',
};

function contentType(path: string): string {
  const ext = /\.([A-Za-z0-9]+)$/.exec(path)?.[1]?.toLowerCase();
  return (ext && TYPES[ext]) || 'application/octet-stream';
}

/** The dataset route definitions, for `startDaemon({ extraRoutes })`. */
export function datasetRoutes(ctx: DatasetRouteContext): RouteDefinition[] {
  // No quilt columns kept between requests (a long-lived server); blob metadata is in ctx.reader's LRU.
  const reader = new DatasetReader({ chain: ctx.chain, tempDir: ctx.tempDir }, ctx.reader, 0);
  const manifests = new Map<string, Promise<DatasetManifest>>();
  const manifest = (id: string): Promise<DatasetManifest> => {
    let m = manifests.get(id);
    if (!m) {
      m = loadManifest(id, { chain: ctx.chain, tempDir: ctx.tempDir });
      m.catch(() => manifests.delete(id)); // a miss is never remembered
      manifests.set(id, m);
      if (manifests.size > 16) manifests.delete(manifests.keys().next().value!);
    }
    return m;
  };
  return [
    {
      method: 'GET',
      path: '/v1/datasets/{manifest_id}/{path+}',
      operationId: 'getDatasetFile',
      tag: 'aggregator',
      admission: 'aggregator',
      summary: 'Read one file of a dataset by its path (Tusk): whole or a byte range, across chunk boundaries.',
      pathParams: [
        { name: 'manifest_id', description: 'Blob ID of the dataset manifest (`tusk dataset publish` prints it).' },
        { name: 'path', description: 'The file path inside the dataset (`/`-separated; segments percent-encoded as needed).' },
      ],
      query: [],
      headers: [
        { name: 'Range', description: 'RFC 9110 single byte range: bytes=a-b, bytes=a-, bytes=-n.' },
        { name: 'If-Range', description: 'Honour Range only if this ETag (the file SHA-256) matches.' },
        { name: 'If-None-Match', description: 'ETag(s): 304 when one matches.' },
      ],
      responses: {
        200: 'The file (streamed as it is verified).',
        206: 'The requested range, with Content-Range.',
        304: 'If-None-Match matched the ETag.',
        400: 'Malformed manifest ID (plain text), or INVALID_MANIFEST: the blob is not a dataset manifest.',
        404: 'BLOB_NOT_FOUND (no such manifest) or FILE_NOT_FOUND (no such path in the dataset).',
        416: 'INVALID_BYTE_RANGE (Content-Range: bytes */size).',
        429: 'Too many requests (plain text).',
        500: 'INTERNAL_ERROR.',
        503: 'BLOB_UNAVAILABLE: the manifest or the file cannot be read now.',
      },
      handle: async (rc) => {
        const id = blobIdToString(parseBlobId(rc.params.manifest_id));
        let m: DatasetManifest;
        try {
          m = await manifest(id);
        } catch (e) {
          if (e instanceof ManifestError) throw new ApiError('INVALID_ARGUMENT', 'INVALID_MANIFEST', e.message);
          if (e instanceof BlobUnavailableError && !e.retryable)
            throw new ApiError('NOT_FOUND', 'BLOB_NOT_FOUND', `manifest ${id}: ${e.message}`, { headers: { 'cache-control': 'no-store' } });
          throw new ApiError('UNAVAILABLE', 'BLOB_UNAVAILABLE', `the manifest cannot be read now: ${(e as Error).message}`);
        }
        let file;
        try {
          file = reader.entry(m, rc.params.path);
        } catch (e) {
          if (e instanceof TuskInputError) throw new ApiError('NOT_FOUND', 'FILE_NOT_FOUND', e.message);
          throw e;
        }
        const etag = file.sha256;
        const base: Record<string, string> = {
          ...CORS_HEADERS,
          'x-content-type-options': 'nosniff',
          'cache-control': SUCCESS_CACHE_CONTROL,
          etag,
          'accept-ranges': 'bytes',
          'content-type': contentType(file.path),
        };
        if (ifNoneMatchMatches(rc.req.headers['if-none-match'] as string | undefined, etag)) {
          const { 'content-type': _ct, ...h } = base;
          rc.res.writeHead(304, h).end();
          return;
        }
        const size = file.size;
        const range = ifRangeAllows(rc.req.headers['if-range'] as string | undefined, etag) ? parseRange(rc.req.headers.range, size) : null;
        if (range === 'unsatisfiable')
          throw new ApiError(
            'RANGE_NOT_SATISFIABLE',
            'INVALID_BYTE_RANGE',
            `the range ${rc.req.headers.range} is not satisfiable for a file of ${size} bytes`,
            {
              headers: { 'content-range': `bytes */${size}` },
            },
          );
        const status = range ? 206 : 200;
        const headers = range
          ? { ...base, 'content-range': `bytes ${range.start}-${range.end}/${size}`, 'content-length': String(range.end - range.start + 1) }
          : { ...base, 'content-length': String(size) };
        if (rc.req.method === 'HEAD' || size === 0) {
          rc.res.writeHead(status, headers).end();
          return;
        }
        const chunks = reader.stream(file, range ?? undefined, rc.signal);
        let first: IteratorResult<Uint8Array>;
        try {
          first = await chunks.next();
        } catch (e) {
          if (rc.signal.aborted) throw e;
          throw new ApiError('UNAVAILABLE', 'BLOB_UNAVAILABLE', `the file cannot be read now: ${(e as Error).message}`);
        }
        rc.res.writeHead(status, headers);
        // A whole file is hashed on the way out: a mismatch cuts the connection (truncated body).
        const hash = range ? null : createHash('sha256');
        try {
          for (let r = first; !r.done; r = await chunks.next()) {
            hash?.update(r.value);
            if (!rc.res.write(r.value)) await drained(rc.res, rc.signal);
          }
          if (hash && hash.digest('hex') !== file.sha256) throw new Error(`${file.path}: SHA-256 mismatch`);
          rc.res.end();
        } catch (e) {
          rc.res.destroy();
          if (!rc.signal.aborted) throw e;
        }
      },
    },
  ];
}
