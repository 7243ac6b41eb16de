/**
 * The storage node's HTTP server: a fastify instance with the Walrus v1 routes (./routes.ts),
 * binary body parsing with per-route size limits, AIP-193 error envelopes for every failure
 * (including fastify's own: oversize bodies, bad content types, unknown routes), and admission
 * control — at most `maxInFlight` requests are handled at once, and at most `maxBodyBytesInFlight`
 * body bytes are held at once; the rest are answered 429 / 503 at once instead of queueing
 * without bound.
 *
 * Slow and idle clients (slowloris) are bounded at the transport (src/http/guard.ts): body bytes
 * are charged to the budget as they arrive (a declared Content-Length costs nothing until its
 * bytes come), a body that pauses longer than `bodyIdleTimeoutMs` is answered 408 and its
 * connection closed, headers must arrive within `headersTimeoutMs`, and one peer address may hold
 * at most `maxConnectionsPerPeer` connections.
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { ApiError, GLOBAL_DOMAIN, tooManyRequests, unavailable } from '../node-api/errors.ts';
import { registerRoutes, type RouteOptions } from './routes.ts';
import type { NodeService } from './service.ts';
import { isStorageFull } from './store.ts';
import { TuskInputError } from '../errors.ts';
import { httpServerFactory, limitConnections, watchBody } from '../http/guard.ts';

/** Options of {@link createNodeServer}. */
export interface NodeServerOptions extends RouteOptions {
  /** Requests handled at once before new ones get 429 (default 256). */
  readonly maxInFlight?: number;
  /**
   * Request-body bytes held at once, summed over the requests being handled (default 512 MiB).
   * Bytes are charged as they arrive (never by the declared Content-Length, which would let idle
   * connections that announce large bodies block every upload) and released when the request
   * ends; a body whose next chunk does not fit fails with 503 and Retry-After. This bounds the
   * memory of bodies whatever `maxInFlight` is (256 × a 44 MB sliver body at n = 1000 ≈ 11 GB).
   */
  readonly maxBodyBytesInFlight?: number;
  /** Time limit for receiving a whole request, ms (default 120 000). */
  readonly requestTimeoutMs?: number;
  /** Longest pause allowed while a request body arrives, ms (default 10 000); then 408 and close. */
  readonly bodyIdleTimeoutMs?: number;
  /** Time limit for receiving a request's headers, ms (default 10 000). */
  readonly headersTimeoutMs?: number;
  /** Open connections allowed per peer address (default 64); more are answered 429 and closed. */
  readonly maxConnectionsPerPeer?: number;
  /** Open connections allowed in all (default 1024); more are answered 503 and closed. */
  readonly maxConnections?: number;
  /** Log line sink for transport events (refused peers); default: none. */
  readonly onLog?: (line: string) => void;
}

/**
 * Builds (does not start) the server. The caller owns the instance: `listen()` and `close()` it.
 * @param nShards committee size, which fixes the body limits.
 */
export function createNodeServer(service: NodeService, nShards: number, options: NodeServerOptions): FastifyInstance {
  const maxInFlight = options.maxInFlight ?? 256;
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1)
    throw new TuskInputError(`maxInFlight must be a positive integer, got ${maxInFlight}`);
  const requestTimeoutMs = options.requestTimeoutMs ?? 120_000;
  const bodyIdleMs = options.bodyIdleTimeoutMs ?? 10_000;
  if (!Number.isInteger(bodyIdleMs) || bodyIdleMs < 1)
    throw new TuskInputError(`bodyIdleTimeoutMs must be a positive integer, got ${bodyIdleMs}`);
  const headersTimeoutMs = Math.min(options.headersTimeoutMs ?? 10_000, requestTimeoutMs);
  const app = Fastify({
    logger: false,
    serverFactory: httpServerFactory({ headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs: 5_000 }),
    // The largest body is set per route; this is only the default for routes without one.
    bodyLimit: 64 * 1024,
    return503OnClosing: true,
  });

  // BCS bodies arrive as octet-stream or without a content type; take every body as bytes and let
  // the route check the content type (a clear 415 instead of fastify's generic one).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const maxBodyBytes = options.maxBodyBytesInFlight ?? 512 * 1024 * 1024;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1)
    throw new TuskInputError(`maxBodyBytesInFlight must be a positive integer, got ${maxBodyBytes}`);
  // Refusals are logged at most once a minute per reason, so a flood cannot fill the log.
  const lastRefusalLog = new Map<string, number>();
  limitConnections(app.server, {
    maxPerPeer: options.maxConnectionsPerPeer ?? 64,
    maxTotal: options.maxConnections ?? 1024,
    refusal: { status: '429 Too Many Requests', body: JSON.stringify(tooManyRequests().toJSON()) },
    onRefuse: (peer, reason) => {
      const now = Date.now();
      if ((lastRefusalLog.get(reason) ?? 0) > now - 60_000) return;
      lastRefusalLog.set(reason, now);
      options.onLog?.(
        reason === 'peer'
          ? `refusing connections from ${peer}: it holds the maximum of open connections`
          : 'refusing connections: the node holds the maximum of open connections',
      );
    },
  });

  let inFlight = 0;
  let bodyBytes = 0;
  app.addHook('onRequest', async (req, reply) => {
    if (inFlight >= maxInFlight) {
      const e = tooManyRequests();
      return sendError(reply.header('retry-after', '1'), e);
    }
    inFlight++;
    let charged = 0;
    let released = false;
    const release = () => {
      if (!released) {
        released = true;
        inFlight--;
        bodyBytes -= charged;
      }
    };
    // 'close' fires once the response is finished or the connection died, whichever comes first.
    reply.raw.once('close', release);
    (req as { chargeBody?: (n: number) => void }).chargeBody = (n: number) => {
      if (released) return;
      if (bodyBytes + n > maxBodyBytes) throw unavailable('too many request bytes in flight; retry later');
      bodyBytes += n;
      charged += n;
    };
  });

  // Every body is read through a watch: bytes are charged as they arrive, and a body that stalls
  // for bodyIdleMs fails with 408 (the connection is then closed: its remaining bytes are unread).
  app.addHook('preParsing', async (req, reply, payload) => {
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (!hasBody) return payload;
    const charge = (req as { chargeBody?: (n: number) => void }).chargeBody;
    const watched = watchBody(payload, {
      idleMs: bodyIdleMs,
      onBytes: (n) => charge?.(n),
      idleError: () =>
        new ApiError('UNAVAILABLE', 'REQUEST_TIMEOUT', `no body bytes for ${bodyIdleMs} ms; the request was dropped`, {
          domain: GLOBAL_DOMAIN,
          retryable: true,
          httpCode: 408,
        }),
    });
    // A body that fails leaves unread bytes on the connection: answer, then close it.
    watched.once('error', () => reply.header('connection', 'close'));
    reply.raw.once('close', () => watched.destroy());
    return watched;
  });

  app.setErrorHandler((error: FastifyError | Error, _req, reply) => {
    let api: ApiError;
    if (error instanceof ApiError) {
      api = error;
      if (api.retryable && api.httpCode >= 500) reply.header('retry-after', '1');
    } else if ((error as FastifyError).code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      api = new ApiError('PAYLOAD_TOO_LARGE', 'PAYLOAD_TOO_LARGE', 'the request body is larger than this route accepts', {
        domain: GLOBAL_DOMAIN,
      });
    } else if ((error as FastifyError).code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      api = new ApiError('UNSUPPORTED_MEDIA_TYPE', 'UNSUPPORTED_MEDIA_TYPE', error.message, { domain: GLOBAL_DOMAIN });
    } else if (
      typeof (error as FastifyError).statusCode === 'number' &&
      (error as FastifyError).statusCode! >= 400 &&
      (error as FastifyError).statusCode! < 500
    ) {
      api = new ApiError('INVALID_ARGUMENT', 'INVALID_REQUEST', error.message, { domain: GLOBAL_DOMAIN });
    } else if (isStorageFull(error)) {
      // Nothing was written (the transaction rolled back); the client may retry later or elsewhere.
      process.stderr.write(`tusk node: storage full: ${error.message}\n`);
      api = new ApiError('UNAVAILABLE', 'STORAGE_FULL', "the node's storage is full; nothing was stored, retry later", {
        retryable: true,
        httpCode: 507,
      });
      reply.header('retry-after', '30');
    } else if (error instanceof TuskInputError) {
      api = new ApiError('INVALID_ARGUMENT', 'INVALID_ARGUMENT', error.message);
    } else {
      // Never leak internals to the client; keep them on the node's stderr.
      process.stderr.write(`tusk node: internal error: ${error.stack ?? error.message}\n`);
      api = new ApiError('INTERNAL', 'INTERNAL_ERROR', 'an internal error has occurred, please report it', { domain: GLOBAL_DOMAIN });
    }
    void sendError(reply, api);
  });

  app.setNotFoundHandler((req, reply) => {
    const e = new ApiError('NOT_FOUND', 'ROUTE_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`, { domain: GLOBAL_DOMAIN });
    void sendError(reply, e);
  });

  registerRoutes(app, service, nShards, options);
  return app;
}

/** Answers with `e`'s AIP-193 error envelope and its HTTP status. */
function sendError(reply: FastifyReply, e: ApiError): FastifyReply {
  return reply.code(e.httpCode).header('content-type', 'application/json').send(JSON.stringify(e.toJSON()));
}
