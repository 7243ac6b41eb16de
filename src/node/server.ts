/**
 * The storage node's HTTP server: a fastify instance with the Walrus v1 routes (./routes.ts),
 * binary body parsing with per-route size limits, AIP-193 error envelopes for every failure
 * (including fastify's own: oversize bodies, bad content types, unknown routes), and admission
 * control — at most `maxInFlight` requests are handled at once, and at most `maxBodyBytesInFlight`
 * body bytes are admitted at once; the rest are answered 429 / 503 at once instead of queueing
 * without bound.
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { ApiError, GLOBAL_DOMAIN, tooManyRequests, unavailable } from '../node-api/errors.ts';
import { registerRoutes, type RouteOptions } from './routes.ts';
import type { NodeService } from './service.ts';
import { TuskInputError } from '../errors.ts';

/** Options of {@link createNodeServer}. */
export interface NodeServerOptions extends RouteOptions {
  /** Requests handled at once before new ones get 429 (default 256). */
  readonly maxInFlight?: number;
  /**
   * Request-body bytes admitted at once, summed over the requests being handled (default 512 MiB).
   * A request is charged its Content-Length (or its route's body limit when it has none) before
   * its body is read; one that does not fit gets 503 with Retry-After at once. This bounds the
   * memory of bodies whatever `maxInFlight` is (256 × a 44 MB sliver body at n = 1000 ≈ 11 GB).
   */
  readonly maxBodyBytesInFlight?: number;
  /** Time limit for receiving a whole request, ms (default 120 000). */
  readonly requestTimeoutMs?: number;
}

/**
 * Builds (does not start) the server. The caller owns the instance: `listen()` and `close()` it.
 * @param nShards committee size, which fixes the body limits.
 */
export function createNodeServer(service: NodeService, nShards: number, options: NodeServerOptions): FastifyInstance {
  const maxInFlight = options.maxInFlight ?? 256;
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new TuskInputError(`maxInFlight must be a positive integer, got ${maxInFlight}`);
  const app = Fastify({
    logger: false,
    requestTimeout: options.requestTimeoutMs ?? 120_000,
    // The largest body is set per route; this is only the default for routes without one.
    bodyLimit: 64 * 1024,
    return503OnClosing: true,
  });

  // BCS bodies arrive as octet-stream or without a content type; take every body as bytes and let
  // the route check the content type (a clear 415 instead of fastify's generic one).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const maxBodyBytes = options.maxBodyBytesInFlight ?? 512 * 1024 * 1024;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1) throw new TuskInputError(`maxBodyBytesInFlight must be a positive integer, got ${maxBodyBytes}`);
  let inFlight = 0;
  let bodyBytes = 0;
  app.addHook('onRequest', async (req, reply) => {
    if (inFlight >= maxInFlight) {
      const e = tooManyRequests();
      return sendError(reply.header('retry-after', '1'), e);
    }
    // The body's charge: its declared length, capped by the route's limit (a larger one is refused
    // with 413 by the parser anyway); without a length (chunked), the route's limit.
    let charge = 0;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const limit = req.routeOptions.bodyLimit ?? 64 * 1024;
      const declared = Number(req.headers['content-length']);
      charge = Number.isSafeInteger(declared) && declared >= 0 ? Math.min(declared, limit) : limit;
    }
    if (charge > 0 && bodyBytes + charge > maxBodyBytes) {
      const e = unavailable('too many request bytes in flight; retry later');
      return sendError(reply.header('retry-after', '1'), e);
    }
    inFlight++;
    bodyBytes += charge;
    let released = false;
    const release = () => {
      if (!released) {
        released = true;
        inFlight--;
        bodyBytes -= charge;
      }
    };
    // 'close' fires once the response is finished or the connection died, whichever comes first.
    reply.raw.once('close', release);
  });

  app.setErrorHandler((error: FastifyError | Error, _req, reply) => {
    let api: ApiError;
    if (error instanceof ApiError) api = error;
    else if ((error as FastifyError).code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      api = new ApiError('PAYLOAD_TOO_LARGE', 'PAYLOAD_TOO_LARGE', 'the request body is larger than this route accepts', { domain: GLOBAL_DOMAIN });
    } else if ((error as FastifyError).code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      api = new ApiError('UNSUPPORTED_MEDIA_TYPE', 'UNSUPPORTED_MEDIA_TYPE', error.message, { domain: GLOBAL_DOMAIN });
    } else if (typeof (error as FastifyError).statusCode === 'number' && (error as FastifyError).statusCode! >= 400 && (error as FastifyError).statusCode! < 500) {
      api = new ApiError('INVALID_ARGUMENT', 'INVALID_REQUEST', error.message, { domain: GLOBAL_DOMAIN });
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
