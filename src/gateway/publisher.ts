/**
 * Publisher route `PUT /v1/blobs` (walrus-http.md §1): Walrus's query parameters (unknown → 400),
 * its `newlyCreated` / `alreadyCertified` JSON (camelCase, Walrus's field order) and error table.
 *
 * The body is never held in memory: it streams to a temporary file (413 before reading when the
 * declared length is over the limit, 413 and a cut connection when a chunked body grows over it),
 * then goes through the streaming store path (`BlobStoreFlow` on `{ path }`). A client that
 * disconnects mid-upload leaves no temporary file and nothing on chain: registration starts only
 * once the whole body is on disk. A retried store reuses its registration (nothing is paid twice).
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import type { Signer } from '@mysten/sui/cryptography';
import { blobIdToString } from '../codec/blob-id.ts';
import type { EncodedMetadata } from '../codec/encode.ts';
import type { TaskRunner } from '../codec/tasks.ts';
import { EncodingConfig } from '../codec/config.ts';
import { encodingByType } from '../codec/encodings/index.ts';
import type { BlobObject, Chain, EventCursor, EventId } from '../chain/types.ts';
import { BlobStoreFlow } from '../client/store-blob.ts';
import { BlobTooLargeError, ChainAbortError, NotEnoughConfirmationsError, TuskInputError } from '../errors.ts';
import { ApiError, PlainError, sendJson, type QueryParam } from './http.ts';
import type { RouteDefinition } from './route-table.ts';
import { checkSize, type JwtAuthenticator, type JwtClaims } from './jwt.ts';
import type { GatewayMetrics } from './metrics.ts';

/** What the publisher route needs. */
export interface PublisherContext {
  readonly chain: Chain;
  readonly signer: Signer;
  readonly pool?: TaskRunner;
  /** Largest accepted body in bytes (Walrus `--max-body-size` is in KiB; default 10 MiB). */
  readonly maxBodySize: number;
  readonly tempDir?: string;
  readonly jwt: JwtAuthenticator | null;
  readonly metrics: GatewayMetrics;
  /** Timeout of one request to a storage node (ms) and retries of a failed one (store defaults: 30 s, 5). */
  readonly nodeTimeoutMs?: number;
  readonly storeRetries?: number;
  /** Background uploads (after certification) in flight; the daemon waits for them on close. */
  readonly background: Set<Promise<unknown>>;
}

export const PUBLISHER_QUERY: QueryParam[] = [
  { name: 'epochs', type: 'integer', description: 'Epochs ahead of the current one to store for (default 1).' },
  { name: 'deletable', type: 'boolean', description: 'Deprecated: blobs are deletable unless permanent=true.' },
  { name: 'permanent', type: 'boolean', description: 'Store a permanent (non-deletable) blob.' },
  { name: 'force', type: 'boolean', description: 'Store a new Blob object even if the blob is already certified.' },
  {
    name: 'reuse_resources',
    type: 'boolean',
    description: 'Reuse owned storage or blob objects (Tusk always reuses its own registrations of the same blob).',
  },
  {
    name: 'encoding_type',
    type: 'string',
    description: 'RS2 (default; the Walrus encoding) or RS8 (a Tusk extension: GF(2^8), committees of at most 195 shards).',
  },
  { name: 'send_object_to', type: 'string', description: 'Sui address that receives the new Blob object.' },
  { name: 'share', type: 'boolean', description: 'Wrap the blob in a shared object (not supported by Tusk: 400).' },
  { name: 'quilt_version', type: 'string', description: 'Accepted and ignored on /v1/blobs (Walrus accepts any string).' },
];

/** Walrus's BlobStoreResult JSON of a Blob object (field order as in move_structs.rs). */
export function blobObjectJson(b: BlobObject): Record<string, unknown> {
  return {
    id: b.id,
    registeredEpoch: b.registeredEpoch,
    blobId: blobIdToString(b.blobId),
    size: b.size,
    encodingType: encodingByType(b.encodingType).name,
    certifiedEpoch: b.certifiedEpoch,
    storage: { id: b.storage.id, startEpoch: b.storage.startEpoch, endEpoch: b.storage.endEpoch, storageSize: b.storage.storageSize },
    deletable: b.deletable,
  };
}

/** The publisher's route definitions. */
export function publisherRoutes(ctx: PublisherContext): RouteDefinition[] {
  const certified = new CertifiedEvents(ctx.chain);
  return [
    {
      method: 'PUT',
      path: '/v1/blobs',
      operationId: 'putBlob',
      tag: 'publisher',
      admission: 'publisher',
      authenticated: true,
      summary: 'Store a blob (raw body) and return its Blob object.',
      query: PUBLISHER_QUERY,
      headers: [{ name: 'Authorization', description: 'Bearer JWT when the publisher requires authentication.' }],
      requestBody: { contentType: 'application/octet-stream', description: 'The blob, any Content-Type, streamed to disk.' },
      responses: {
        200: 'newlyCreated or alreadyCertified.',
        400: 'Bad query (plain text), INVALID_BLOB_PERSISTENCE, or a JWT check (INVALID_TOKEN, INVALID_SIZE, …).',
        401: 'INVALID_SIGNATURE (JWT).',
        413: 'Body over --max-body-size (plain text, before the body is read).',
        429: 'Too many requests (plain text) or TOKEN_ALREADY_USED.',
        500: 'INTERNAL_ERROR.',
        503: 'The publisher is shutting down.',
        504: 'INSUFFICIENT_CONFIRMATIONS, or EXPIRED_SIGNATURE (JWT).',
      },
      handle: async (rc) => {
        const q = rc.query;
        const epochs = q.epochs === undefined ? 1 : Number(q.epochs as bigint);
        if (epochs > 2 ** 32 - 1)
          throw new PlainError(400, 'Failed to deserialize query string: epochs: number too large to fit in target type');
        if (q.encoding_type !== undefined && q.encoding_type !== 'RS2' && q.encoding_type !== 'RS8')
          throw new PlainError(400, `Failed to deserialize query string: encoding_type: unsupported encoding type \`${q.encoding_type}\``);
        const encoding = (q.encoding_type as string | undefined) ?? 'RS2';
        if (q.send_object_to !== undefined && q.share !== undefined)
          throw new PlainError(400, 'Failed to deserialize query string: send_object_to and share cannot be combined');
        const sendTo = q.send_object_to as string | undefined;
        if (sendTo !== undefined && !/^0x[0-9a-fA-F]{1,64}$/.test(sendTo))
          throw new PlainError(400, `Failed to deserialize query string: send_object_to: invalid address \`${sendTo}\``);
        if (q.deletable === true && q.permanent === true)
          throw new ApiError('INVALID_ARGUMENT', 'INVALID_BLOB_PERSISTENCE', 'a blob cannot be both deletable and permanent');
        if (q.share === true)
          throw new ApiError('INVALID_ARGUMENT', 'UNSUPPORTED_OPERATION', 'shared blobs are not supported by this publisher');
        if (epochs < 1) throw new ApiError('INVALID_ARGUMENT', 'INVALID_EPOCHS', 'epochs must be at least 1');

        const declared = contentLength(rc.req);
        let claims: JwtClaims | null = null;
        let release = () => {};
        const bearer = rc.req.headers.authorization;
        if (ctx.jwt) {
          const auth = ctx.jwt.authenticate(bearer, { contentLength: declared, epochs, sendObjectTo: sendTo });
          claims = auth.claims;
          release = auth.release;
        }
        try {
          if (declared !== undefined && declared > ctx.maxBodySize) {
            rc.res.setHeader('connection', 'close');
            throw new PlainError(413, `length limit exceeded: the body is ${declared} bytes, the limit is ${ctx.maxBodySize}`);
          }
          const dir = await mkdtemp(join(ctx.tempDir ?? tmpdir(), 'tusk-put-'));
          let body: unknown;
          try {
            const file = join(dir, 'body');
            const bytes = await receiveBody(rc.req, file, ctx.maxBodySize, rc.signal);
            ctx.metrics.requestBytes.observe(
              {
                http_request_method: 'PUT',
                url_scheme: 'http',
                http_route: '/v1/blobs',
                network_protocol_version: rc.req.httpVersion,
                error_type: '',
                http_response_status_code: '',
              },
              bytes,
            );
            if (claims) checkSize(claims, bytes);
            body = await store(ctx, certified, file, {
              epochs,
              deletable: q.permanent !== true,
              force: q.force === true,
              sendTo,
              encoding,
            });
          } finally {
            // Removed before the answer goes out: a client that got its answer (and a daemon
            // closing after it) finds no temporary file of this request left.
            await rm(dir, { recursive: true, force: true });
          }
          sendJson(rc.res, 200, body);
        } catch (e) {
          release();
          throw e;
        }
      },
    },
  ];
}

function contentLength(req: IncomingMessage): number | undefined {
  const raw = req.headers['content-length'];
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
}

/**
 * Streams the request body into `file`. Resolves to its length.
 * @throws PlainError 413 when it grows over `max` (the connection is then closed); the signal's
 *   reason when the client goes away.
 */
function receiveBody(req: IncomingMessage, file: string, max: number, signal: AbortSignal): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const out = createWriteStream(file);
    let bytes = 0;
    let settled = false;
    const fail = (e: unknown) => {
      if (settled) return;
      settled = true;
      req.unpipe(out);
      out.destroy();
      reject(e);
    };
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > max) {
        req.pause();
        fail(new PlainError(413, `length limit exceeded: the body is over the limit of ${max} bytes`));
      }
    });
    req.on('aborted', () => fail(new Error('client disconnected during the upload')));
    req.on('error', fail);
    signal.addEventListener('abort', () => fail(signal.reason ?? new Error('client disconnected')), { once: true });
    out.on('error', fail);
    out.on('finish', () => {
      if (settled) return;
      if (!req.complete) return fail(new Error('client disconnected during the upload'));
      settled = true;
      resolve(bytes);
    });
    req.pipe(out);
  });
}

async function store(
  ctx: PublisherContext,
  certified: CertifiedEvents,
  file: string,
  o: { epochs: number; deletable: boolean; force: boolean; sendTo?: string; encoding: string },
): Promise<unknown> {
  const { chain, signer } = ctx;
  const flow = new BlobStoreFlow(
    { path: file },
    {
      chain,
      signer,
      epochs: o.epochs,
      deletable: o.deletable,
      encoding: o.encoding,
      pool: ctx.pool,
      tempDir: ctx.tempDir,
      reuseExisting: !o.force,
      nodeTimeoutMs: ctx.nodeTimeoutMs,
      retries: ctx.storeRetries,
    },
  );
  try {
    const enc = await flow.encode();
    // Concurrent PUTs of the same blob run one after the other: the second finds the first's
    // certified object (or registration) instead of paying again.
    return await sameBlob.run(enc.blobIdString, () => storeEncoded(ctx, certified, flow, enc, o));
  } catch (e) {
    await flow.dispose().catch(() => {});
    if (e instanceof ApiError || e instanceof PlainError) throw e;
    if (e instanceof NotEnoughConfirmationsError)
      throw new ApiError(
        'DEADLINE_EXCEEDED',
        'INSUFFICIENT_CONFIRMATIONS',
        `could not collect a quorum of storage confirmations: ${e.message}`,
      );
    if (e instanceof BlobTooLargeError) throw new ApiError('SIZE_EXCEEDED', 'BLOB_TOO_LARGE', e.message);
    // Walrus lets these fail as 500s; a caller can act on a precise 400 (Tusk superset).
    if (e instanceof ChainAbortError && e.code === 'EInvalidEpochsAhead')
      throw new ApiError('INVALID_ARGUMENT', 'INVALID_EPOCHS', e.message);
    if (e instanceof ChainAbortError && e.code === 'EInsufficientFunds')
      throw new ApiError('FAILED_PRECONDITION', 'INSUFFICIENT_FUNDS', `the publisher's wallet cannot pay for this store: ${e.message}`);
    if (e instanceof TuskInputError) throw new ApiError('INVALID_ARGUMENT', 'INVALID_ARGUMENT', e.message);
    throw e;
  }
}

/** Serialises work per key (blob ID). */
class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();
  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const mine = prev.catch(() => {}).then(work);
    const tail = mine.catch(() => {});
    this.tails.set(key, tail);
    try {
      return await mine;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

const sameBlob = new KeyedLock();

async function storeEncoded(
  ctx: PublisherContext,
  certified: CertifiedEvents,
  flow: BlobStoreFlow,
  enc: EncodedMetadata,
  o: { epochs: number; deletable: boolean; force: boolean; sendTo?: string },
): Promise<unknown> {
  const { chain, signer } = ctx;
  {
    const state = await chain.systemState();
    if (!o.force) {
      // Already certified for long enough (by anyone): answer without paying again.
      const wantedEnd = state.epoch + o.epochs;
      const live = (await chain.blobObjects(enc.blobId)).filter((b) => b.certifiedEpoch !== null && b.storage.endEpoch >= wantedEnd);
      const own = live.find((b) => b.deletable && b.owner === signer.toSuiAddress() && b.deletable === o.deletable);
      if (own && o.sendTo === undefined) {
        await flow.dispose();
        return { alreadyCertified: { blobId: enc.blobIdString, object: own.id, endEpoch: own.storage.endEpoch } };
      }
      const permanent = live.filter((b) => !b.deletable).sort((a, b) => b.storage.endEpoch - a.storage.endEpoch)[0];
      if (permanent && o.sendTo === undefined) {
        const event = await certified.find(blobIdToString(enc.blobId));
        if (event) {
          await flow.dispose();
          return {
            alreadyCertified: {
              blobId: blobIdToString(enc.blobId),
              event: { txDigest: event.txDigest, eventSeq: String(event.eventSeq) },
              endEpoch: permanent.storage.endEpoch,
            },
          };
        }
      }
    }
    // The registration the flow will reuse, chosen as BlobStoreFlow.register does (certified
    // first, then the longest-lived), to name the resource operation as Walrus does.
    const prior = o.force
      ? undefined
      : (await chain.blobObjects(enc.blobId))
          .filter((b) => b.owner === signer.toSuiAddress() && b.deletable === o.deletable && b.storage.endEpoch > state.epoch)
          .sort(
            (a, b) => Number(b.certifiedEpoch !== null) - Number(a.certifiedEpoch !== null) || b.storage.endEpoch - a.storage.endEpoch,
          )[0];
    const result = await flow.run();
    ctx.background.add(result.background);
    result.background.finally(() => ctx.background.delete(result.background)).catch(() => {});
    let blob = await chain.getBlob(result.blobObjectId);
    if (!blob) throw new Error('the certified Blob object is missing');
    if (o.sendTo !== undefined) {
      await chain.transferObject(signer, result.blobObjectId, `0x${o.sendTo.slice(2).toLowerCase().padStart(64, '0')}`);
      blob = (await chain.getBlob(result.blobObjectId)) ?? blob;
    }
    const encodedLength = new EncodingConfig(state.nShards).encodedBlobLength(result.unencodedLength);
    let resourceOperation: Record<string, Record<string, number>>;
    if (result.reused && prior && prior.id === result.blobObjectId) {
      const epochsExtended = Math.max(0, blob.storage.endEpoch - prior.storage.endEpoch);
      resourceOperation =
        epochsExtended === 0
          ? { reuseRegistration: { encodedLength } }
          : prior.certifiedEpoch !== null
            ? { reuseAndExtend: { encodedLength, epochsExtended } }
            : { reuseAndExtendNonCertified: { encodedLength, epochsExtended } };
    } else if (result.storageReused) {
      resourceOperation = { reuseStorage: { encodedLength } };
    } else {
      resourceOperation = { registerFromScratch: { encodedLength, epochsAhead: o.epochs } };
    }
    return { newlyCreated: { blobObject: blobObjectJson(blob), resourceOperation, cost: Number(result.cost) } };
  }
}

/** BlobCertified events by blob ID, read incrementally from the chain (for `alreadyCertified.event`). */
class CertifiedEvents {
  private cursor: EventCursor | null = null;
  private readonly byBlob = new Map<string, EventId>();
  private readonly chain: Chain;
  constructor(chain: Chain) {
    this.chain = chain;
  }

  async find(blobId: string): Promise<EventId | null> {
    for (;;) {
      const page = await this.chain.events({ cursor: this.cursor, limit: 1000 });
      for (const e of page.events) {
        if (e.event.type === 'BlobCertified' && !e.event.deletable) {
          const id = blobIdToString(e.event.blobId);
          if (!this.byBlob.has(id)) this.byBlob.set(id, e.id);
        }
      }
      if (page.nextCursor !== null) this.cursor = page.nextCursor;
      if (page.events.length < 1000) break;
    }
    return this.byBlob.get(blobId) ?? null;
  }
}
