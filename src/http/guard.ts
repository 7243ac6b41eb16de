/**
 * Transport guards shared by Tusk's HTTP servers (the storage node, src/node/server.ts, and the
 * chain server, src/chain/remote/server.ts) against slow or idle clients that hold resources
 * without sending anything (slowloris):
 *
 *  - {@link limitConnections}: at most N open connections per peer address and M in all; a
 *    connection beyond either cap is answered with one fixed refusal (429 or 503 with Retry-After)
 *    and closed before anything of it is parsed;
 *  - {@link watchBody}: wraps a request body stream so that every chunk is reported as it arrives
 *    (for budgets charged by real bytes, not by a declared Content-Length) and the body fails when
 *    no byte arrived for `idleMs`.
 *
 * Node's own `headersTimeout` / `requestTimeout` are checked only every
 * `connectionsCheckingInterval`; {@link httpServerFactory} builds the server with a short interval
 * so those limits hold to about a second.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { TuskInputError } from '../errors.ts';

/** Options of {@link limitConnections}. */
export interface ConnectionLimitOptions {
  /** Open connections allowed from one peer address (IPv4-mapped IPv6 counts as IPv4). */
  readonly maxPerPeer: number;
  /** Open connections allowed in all. */
  readonly maxTotal: number;
  /** Status line and JSON body written to a refused connection (e.g. `429 Too Many Requests`). */
  readonly refusal: { readonly status: string; readonly body: string };
  /** Called once per refused connection (for the log; rate-limit on the caller's side). */
  readonly onRefuse?: (peer: string, reason: 'peer' | 'total') => void;
}

/**
 * Caps `server`'s open connections per peer and in total. Must be called before `listen`.
 * A refused connection gets `refusal` with `Connection: close` and `Retry-After: 1` and is
 * destroyed shortly after (its request, if any, is never read).
 */
export function limitConnections(server: Server, o: ConnectionLimitOptions): void {
  for (const [name, v] of [
    ['maxPerPeer', o.maxPerPeer],
    ['maxTotal', o.maxTotal],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new TuskInputError(`${name} must be a positive integer, got ${v}`);
  }
  const perPeer = new Map<string, number>();
  let total = 0;
  const response =
    `HTTP/1.1 ${o.refusal.status}\r\nContent-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\n` +
    `Content-Length: ${Buffer.byteLength(o.refusal.body)}\r\n\r\n${o.refusal.body}`;
  // 'connection' listeners run in registration order; prepend so a refused socket never reaches
  // the HTTP parser.
  server.prependListener('connection', (socket: Socket) => {
    const peer = (socket.remoteAddress ?? '?').replace(/^::ffff:/, '');
    const mine = perPeer.get(peer) ?? 0;
    const over = mine >= o.maxPerPeer ? 'peer' : total >= o.maxTotal ? 'total' : null;
    if (over) {
      o.onRefuse?.(peer, over);
      socket.on('error', () => {});
      socket.end(response);
      // A peer that never reads must not keep the socket either.
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    perPeer.set(peer, mine + 1);
    total++;
    socket.once('close', () => {
      total--;
      const left = (perPeer.get(peer) ?? 1) - 1;
      if (left <= 0) perPeer.delete(peer);
      else perPeer.set(peer, left);
    });
  });
}

/** Options of {@link watchBody}. */
export interface BodyWatchOptions {
  /** Longest pause between two body chunks (and before the first), ms. */
  readonly idleMs: number;
  /** Called with each chunk's length as it arrives; throw to fail the body (e.g. a budget is full). */
  readonly onBytes?: (bytes: number) => void;
  /** The error the body fails with when idle (the server turns it into its 408 answer). */
  readonly idleError: () => Error;
}

/**
 * Returns a stream that passes `body` through, reports every chunk to `onBytes` and fails with
 * `idleError()` when `idleMs` pass without a chunk. The timer stops when the body ends, fails or
 * is destroyed. `receivedEncodedLength` is kept for fastify's body-limit check.
 */
export function watchBody(body: Readable, o: BodyWatchOptions): Transform & { receivedEncodedLength: number } {
  let timer: NodeJS.Timeout | undefined;
  const out = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      out.receivedEncodedLength += chunk.length;
      try {
        o.onBytes?.(chunk.length);
      } catch (e) {
        stop();
        cb(e as Error);
        return;
      }
      arm();
      cb(null, chunk);
    },
    flush(cb) {
      stop();
      cb();
    },
  }) as Transform & { receivedEncodedLength: number };
  out.receivedEncodedLength = 0;
  const stop = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
  };
  const arm = () => {
    stop();
    timer = setTimeout(() => {
      timer = undefined;
      body.unpipe(out);
      out.destroy(o.idleError());
    }, o.idleMs);
  };
  out.once('close', stop);
  body.once('error', (e) => out.destroy(e));
  body.once('close', stop);
  arm();
  body.pipe(out);
  return out;
}

/** Options of {@link httpServerFactory}. */
export interface HttpServerTimeouts {
  /** Time allowed for a request's headers, ms. */
  readonly headersTimeoutMs: number;
  /** Time allowed for a whole request (headers and body), ms; 0 disables it. */
  readonly requestTimeoutMs: number;
  /** Idle time of a keep-alive connection between requests, ms. */
  readonly keepAliveTimeoutMs: number;
}

/**
 * A fastify `serverFactory` creating an HTTP/1 server whose header and request timeouts are
 * enforced to about a second (Node checks them every `connectionsCheckingInterval`, 30 s by default).
 */
export function httpServerFactory(t: HttpServerTimeouts): (handler: (req: IncomingMessage, res: ServerResponse) => void) => Server {
  return (handler) => {
    const server = createServer(
      {
        headersTimeout: t.headersTimeoutMs,
        requestTimeout: t.requestTimeoutMs,
        keepAliveTimeout: t.keepAliveTimeoutMs,
        connectionsCheckingInterval: 1000,
      },
      handler,
    );
    return server;
  };
}
