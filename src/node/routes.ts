/**
 * The Walrus v1 storage-node routes (walrus-protocol.md §5, table rows 1–13) on a fastify
 * instance. Path and query parsing, content types, body limits and envelopes live here; the
 * acceptance rules live in {@link NodeService}.
 *
 * BCS bodies are accepted as `application/octet-stream` (parameters allowed) or without a
 * Content-Type, as Walrus does; anything else is 415. BCS responses are `application/octet-stream`,
 * JSON responses use the `{"success":{code,data}}` envelope.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { blobIdFromString } from '../codec/blob-id.ts';
import { decodingSymbolsToBcs, recoverySymbolsToBcs } from '../codec/recovery.ts';
import type { SliverAxis } from '../codec/sliver.ts';
import { ApiError, badRequest, success } from '../node-api/errors.ts';
import type { NodeService } from './service.ts';
import { NODE_ROUTES, metadataBodyLimit, proofBodyLimit, sliverBodyLimit, type UploadOutcome } from '../node-api/wire.ts';

/** Route-level options. */
export interface RouteOptions {
  /** This node's ID (for health), or null before registration. */
  readonly nodeId: () => string | null;
  /** Events known to be waiting (for health). */
  readonly eventsPending: () => number;
  /** Slivers of held shards known to be missing (recently certified blobs still syncing); default 0. */
  readonly missingSlivers?: () => number;
  /** The node's storage-challenge record for health (Tusk-only field `challenges`), or null. */
  readonly challenges?: () => object | null;
}

const UPLOAD_MESSAGES = {
  metadata: {
    stored: 'metadata successfully stored',
    buffered: 'metadata buffered pending registration',
    alreadyStored: 'metadata already stored',
  },
  sliver: {
    stored: 'sliver stored successfully',
    buffered: 'sliver buffered pending registration',
    alreadyStored: 'sliver already stored',
  },
} as const;

const UPLOAD_CODES: Record<UploadOutcome, number> = { stored: 201, buffered: 202, alreadyStored: 200 };

type Params = Record<string, string>;
type Query = Record<string, string | string[] | undefined>;

/** Parses and checks a decimal u16 path segment. */
export function parseU16(text: string, what: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 0xffff)
    throw badRequest('INVALID_PATH', `${what} must be a decimal u16, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** Parses `primary|secondary`. */
export function parseAxis(text: string, what = 'sliver type'): SliverAxis {
  if (text !== 'primary' && text !== 'secondary')
    throw badRequest('INVALID_PATH', `${what} must be "primary" or "secondary", got ${JSON.stringify(text)}`);
  return text;
}

function blobIdParam(req: FastifyRequest): Uint8Array {
  const text = (req.params as Params).blobId;
  try {
    return blobIdFromString(text);
  } catch {
    throw badRequest('INVALID_BLOB_ID', `malformed blob ID ${JSON.stringify(text)}: expected 43 URL-safe base64 characters (32 bytes)`);
  }
}

function single(q: Query, name: string): string | undefined {
  const v = q[name];
  if (Array.isArray(v)) throw badRequest('INVALID_QUERY', `query parameter ${name} given more than once`);
  return v;
}

function boolQuery(q: Query, name: string): boolean {
  const v = single(q, name);
  if (v === undefined) return false;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw badRequest('INVALID_QUERY', `query parameter ${name} must be true or false, got ${JSON.stringify(v)}`);
}

function bcsBody(req: FastifyRequest): Uint8Array {
  const ct = req.headers['content-type'];
  if (ct !== undefined && ct.split(';')[0].trim().toLowerCase() !== 'application/octet-stream') {
    throw new ApiError(
      'UNSUPPORTED_MEDIA_TYPE',
      'UNSUPPORTED_MEDIA_TYPE',
      `BCS bodies must be application/octet-stream, got ${JSON.stringify(ct)}`,
    );
  }
  const body = req.body;
  if (body === undefined || body === null) return new Uint8Array(0);
  if (!(body instanceof Uint8Array)) throw badRequest('INVALID_BODY', 'expected a binary body');
  // The store and the pending buffer keep these bytes, so they must not share memory with
  // anything reused: a body that owns its whole ArrayBuffer (every body beyond Node's small-buffer
  // pool) is used as is; only a pooled (small) one is copied.
  if (body.byteOffset === 0 && body.byteLength === body.buffer.byteLength) return new Uint8Array(body.buffer, 0, body.byteLength);
  return new Uint8Array(body);
}

function sendBcs(reply: FastifyReply, bytes: Uint8Array): FastifyReply {
  return reply
    .code(200)
    .header('content-type', 'application/octet-stream')
    .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

function sendJson(reply: FastifyReply, code: number, data: unknown): FastifyReply {
  return reply
    .code(code)
    .header('content-type', 'application/json')
    .send(JSON.stringify(success(code, data)));
}

/**
 * Registers the routes on `app`. Pre: `app` has a catch-all binary content-type parser
 * (see ./server.ts) and an error handler that renders {@link ApiError}s.
 */
export function registerRoutes(app: FastifyInstance, service: NodeService, nShards: number, options: RouteOptions): void {
  // 1–3 metadata
  app.put(NODE_ROUTES.metadata, { bodyLimit: metadataBodyLimit(nShards) }, async (req, reply) => {
    const blobId = blobIdParam(req);
    const pending = boolQuery(req.query as Query, 'pending');
    const outcome = await service.putMetadata(blobId, bcsBody(req), pending);
    return sendJson(reply, UPLOAD_CODES[outcome], UPLOAD_MESSAGES.metadata[outcome]);
  });
  app.get(NODE_ROUTES.metadata, async (req, reply) => sendBcs(reply, service.getMetadata(blobIdParam(req))));
  app.get(NODE_ROUTES.metadataStatus, async (req, reply) => sendJson(reply, 200, service.metadataStatus(blobIdParam(req))));

  // 4–6 slivers
  const sliverParams = (req: FastifyRequest): { blobId: Uint8Array; pair: number; axis: SliverAxis } => {
    const p = req.params as Params;
    return { blobId: blobIdParam(req), pair: parseU16(p.pair, 'sliver pair index'), axis: parseAxis(p.axis) };
  };
  app.put(
    NODE_ROUTES.sliver,
    {
      bodyLimit: sliverBodyLimit(nShards),
      // Before the body is read: refuse a sliver for an unregistered blob, a shard not held or a
      // pair out of range without buffering up to sliverBodyLimit bytes for it.
      preParsing: async (req, _reply, payload) => {
        const { blobId, pair } = sliverParams(req);
        service.precheckSliver(blobId, pair, boolQuery(req.query as Query, 'pending'));
        return payload;
      },
    },
    async (req, reply) => {
      const { blobId, pair, axis } = sliverParams(req);
      const pending = boolQuery(req.query as Query, 'pending');
      const outcome = await service.putSliver(blobId, pair, axis, bcsBody(req), pending);
      return sendJson(reply, UPLOAD_CODES[outcome], UPLOAD_MESSAGES.sliver[outcome]);
    },
  );
  app.get(NODE_ROUTES.sliver, async (req, reply) => {
    const { blobId, pair, axis } = sliverParams(req);
    return sendBcs(reply, service.getSliver(blobId, pair, axis));
  });
  app.get(NODE_ROUTES.sliverStatus, async (req, reply) => {
    const { blobId, pair, axis } = sliverParams(req);
    return sendJson(reply, 200, service.sliverStatus(blobId, pair, axis));
  });

  // 7–8 confirmations
  const waitOf = (q: Query): number | null => {
    if (!boolQuery(q, 'wait_for_registration')) return null;
    const ms = single(q, 'wait_millis');
    if (ms === undefined) return 0;
    if (!/^\d{1,9}$/.test(ms)) throw badRequest('INVALID_QUERY', `wait_millis must be a non-negative integer, got ${JSON.stringify(ms)}`);
    return Number(ms);
  };
  const abortOnClose = (req: FastifyRequest): AbortSignal => {
    const ac = new AbortController();
    req.raw.once('close', () => ac.abort());
    return ac.signal;
  };
  app.get(NODE_ROUTES.permanentConfirmation, async (req, reply) => {
    const blobId = blobIdParam(req);
    const data = await service.confirmation(blobId, { kind: 'permanent' }, waitOf(req.query as Query), abortOnClose(req));
    return sendJson(reply, 200, data);
  });
  app.get(NODE_ROUTES.deletableConfirmation, async (req, reply) => {
    const blobId = blobIdParam(req);
    const objectId = (req.params as Params).objectId;
    if (!/^0x[0-9a-fA-F]{1,64}$/.test(objectId)) throw badRequest('INVALID_PATH', `malformed object ID ${JSON.stringify(objectId)}`);
    const bytes = new Uint8Array(Buffer.from(objectId.slice(2).toLowerCase().padStart(64, '0'), 'hex'));
    const data = await service.confirmation(blobId, { kind: 'deletable', objectId: bytes }, waitOf(req.query as Query), abortOnClose(req));
    return sendJson(reply, 200, data);
  });

  // 9 recovery symbols (both query forms)
  app.get(NODE_ROUTES.recoverySymbols, async (req, reply) => {
    const blobId = blobIdParam(req);
    const q = req.query as Query;
    const proofAxisText = single(q, 'proofAxis');
    const proofAxis = proofAxisText === undefined ? null : parseAxis(proofAxisText, 'proofAxis');
    const ids = q.id === undefined ? [] : Array.isArray(q.id) ? q.id : [q.id];
    const target = single(q, 'targetSliver');
    if (ids.length > 0 && target !== undefined)
      throw badRequest('INVALID_QUERY', 'give either id=P-S or targetSliver/targetType, not both');
    if (target !== undefined) {
      const typeText = single(q, 'targetType');
      if (typeText === undefined) throw badRequest('INVALID_QUERY', 'targetSliver needs targetType');
      const symbols = await service.recoverySymbolsForTarget(
        blobId,
        parseU16(target, 'targetSliver'),
        parseAxis(typeText, 'targetType'),
        proofAxis,
      );
      return sendBcs(reply, recoverySymbolsToBcs(symbols));
    }
    const parsed = ids.map((id) => {
      const m = /^(\d{1,5})-(\d{1,5})$/.exec(id);
      if (!m) throw badRequest('INVALID_QUERY', `symbol ID must be "P-S", got ${JSON.stringify(id)}`);
      return { primary: parseU16(m[1], 'primary index'), secondary: parseU16(m[2], 'secondary index') };
    });
    const symbols = await service.recoverySymbolsById(blobId, parsed, proofAxis);
    return sendBcs(reply, recoverySymbolsToBcs(symbols));
  });

  // 10 decoding symbols
  app.get(NODE_ROUTES.decodingSymbols, async (req, reply) => {
    const blobId = blobIdParam(req);
    const q = req.query as Query;
    const raw = q.targetSlivers === undefined ? [] : Array.isArray(q.targetSlivers) ? q.targetSlivers : [q.targetSlivers];
    const typeText = single(q, 'targetType');
    if (typeText === undefined) throw badRequest('INVALID_QUERY', 'decodingSymbols needs targetType');
    const targets = raw.map((t) => parseU16(t, 'targetSlivers'));
    const targetAxis = parseAxis(typeText, 'targetType');
    return sendBcs(reply, decodingSymbolsToBcs(service.decodingSymbols(blobId, targets, targetAxis), targetAxis));
  });

  // 11 inconsistency proof
  app.post(NODE_ROUTES.inconsistencyProof, { bodyLimit: proofBodyLimit(nShards) }, async (req, reply) => {
    const blobId = blobIdParam(req);
    const axis = parseAxis((req.params as Params).axis);
    return sendJson(reply, 200, await service.inconsistencyProof(blobId, axis, bcsBody(req)));
  });

  // 12 blob status
  app.get(NODE_ROUTES.blobStatus, async (req, reply) => sendJson(reply, 200, service.blobStatus(blobIdParam(req))));

  // 13 health
  app.get(NODE_ROUTES.health, async (req, reply) => {
    const detailed = boolQuery(req.query as Query, 'detailed');
    return sendJson(
      reply,
      200,
      service.health(detailed, {
        nodeId: options.nodeId(),
        eventsPending: options.eventsPending(),
        missingSlivers: options.missingSlivers?.() ?? 0,
        challenges: options.challenges?.() ?? null,
      }),
    );
  });
}
