/**
 * The chain server: one process owns the local chain's SQLite file and serves it over HTTP, so
 * storage nodes, clients and CLIs in other processes share one chain (`tusk chain serve`;
 * `RemoteChain` in ./client.ts is the matching `Chain` adapter).
 *
 * Every body, in and out, is chain JSON (src/chain/json.ts), so FROST amounts stay `bigint` and
 * byte fields stay bytes. Writes arrive already signed (`POST /v1/transactions`); the server adds
 * no authority of its own: the chain checks the signature, the chain ID and the digest, and a
 * transaction it has already executed returns the stored result, which is what makes a client's
 * retry after a lost answer (or after this process was killed) safe.
 *
 * Errors are `{"error":{"code","message","retryable","kind"}}`: 400 for a chain abort (`code` is
 * the Move abort name) or bad input, 404 for a missing object, 503 while shutting down, 500
 * otherwise. See docs/chain.md for the routes.
 *
 * Slow and idle clients are bounded at the transport (src/http/guard.ts): headers must arrive
 * within `headersTimeoutMs`, a body that pauses longer than `bodyIdleTimeoutMs` is answered 408
 * and its connection closed, a whole request must arrive within `requestTimeoutMs`, and one peer
 * address may hold at most `maxConnectionsPerPeer` connections (`maxConnections` in all).
 */
import { BlockList, isIP } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { blobIdFromString } from '../../codec/blob-id.ts';
import { ChainAbortError, ChainUnavailableError, TuskError, TuskInputError } from '../../errors.ts';
import { isSiteReader } from '../site-objects.ts';
import { decodeChainJson, encodeChainJson } from '../json.ts';
import type { SignedTransaction } from '../transaction.ts';
import type { ChallengeReads, DevChain, StakedWalValue } from '../types.ts';
import { pause } from '../../util/async.ts';
import { httpServerFactory, limitConnections, watchBody } from '../../http/guard.ts';
import { clockErrorReporter, hasChallengeClock, runChallengeClock, type ChallengeClockChain } from './challenge-clock.ts';

/** What the server needs from the chain it serves: `LocalChain` satisfies it. */
export interface ServableChain extends DevChain {
  chainId(): Promise<string>;
  submit(tx: SignedTransaction): Promise<unknown>;
}

function hasStakeValues(chain: ServableChain): chain is ServableChain & { stakedWalValue(id: string): Promise<StakedWalValue | null> } {
  return typeof (chain as { stakedWalValue?: unknown }).stakedWalValue === 'function';
}

function hasChallenges(chain: ServableChain): chain is ServableChain & ChallengeReads {
  const c = chain as Partial<ChallengeReads>;
  return (
    typeof c.challengeRounds === 'function' &&
    typeof c.challengeStatus === 'function' &&
    typeof c.challengePenalties === 'function' &&
    typeof c.challengeSummary === 'function'
  );
}

/** Options of `startChainServer`. */
export interface ChainServerOptions {
  /** The chain to serve. The server does not own it: `close()` leaves it open. */
  readonly chain: ServableChain;
  /** Interface to bind (default 127.0.0.1: a development chain is not for the open network). */
  readonly host?: string;
  /** Port (default 0 = any free port; read the result's `url`). */
  readonly port?: number;
  /**
   * Serve `POST /v1/faucet` and `POST /v1/advance-epoch`. They need no signature: anyone who can
   * reach them mints WAL or ends epochs. Default: on when `host` is a loopback address (see
   * `isLoopbackHost`; the local chain is a dev chain), off for any other host (e.g. `0.0.0.0`).
   */
  readonly devRoutes?: boolean;
  /**
   * Run an epoch clock: whenever `epochStartMs + epochDurationMs` of the chain's persisted state
   * has passed, call `advanceEpoch()`. Both values are read from the chain at every tick, so a
   * restarted server keeps the schedule and the duration fixed at genesis. Default false.
   */
  readonly epochClock?: boolean;
  /**
   * Run the storage-challenge round clock (./challenge-clock.ts): R rounds per epoch at
   * `epochStart + T·(r+1)/(R+1)`, expired rounds closed. Needs a chain with challenges (LocalChain).
   * Default false.
   */
  readonly challengeClock?: boolean;
  /** Upper bound of a long poll's `waitMs` (default 30 000). */
  readonly maxWaitMs?: number;
  /** Request body limit in bytes (default 1 MiB: a transaction is a few KiB). */
  readonly bodyLimit?: number;
  /** Largest POST /v1/transactions body (default 32 MiB, at least bodyLimit): a big site update is one transaction. */
  readonly transactionBodyLimit?: number;
  /** Called with errors of the epoch clock and with unexpected (500) request errors. */
  readonly onError?: (error: unknown) => void;
  /** Called with notable events (epoch advanced by the clock, refused peers); default: none. */
  readonly onLog?: (line: string) => void;
  /**
   * Adds more routes before the server listens (they share the error handler, the chain-JSON body
   * parser and the limits), e.g. the Sui localnet's `/v1/sui/…` (src/chain/localnet/).
   */
  readonly routes?: (app: FastifyInstance) => Promise<unknown> | unknown;
  /** Time limit for receiving a request's headers, ms (default 10 000). */
  readonly headersTimeoutMs?: number;
  /** Time limit for receiving a whole request (not for answering it: long polls wait longer), ms (default 30 000). */
  readonly requestTimeoutMs?: number;
  /** Longest pause allowed while a request body arrives, ms (default 10 000); then 408 and close. */
  readonly bodyIdleTimeoutMs?: number;
  /** Open connections allowed per peer address (default 256: a dev network's nodes share 127.0.0.1). */
  readonly maxConnectionsPerPeer?: number;
  /** Open connections allowed in all (default 2048). */
  readonly maxConnections?: number;
}

/** A running server. */
export interface ChainServer {
  /** `http://host:port` with the bound port. */
  readonly url: string;
  /** Whether the faucet and advance-epoch routes are served (see `ChainServerOptions.devRoutes`). */
  readonly devRoutes: boolean;
  readonly port: number;
  /** The underlying fastify instance (for tests and extra routes). */
  readonly app: FastifyInstance;
  /** Stops the clock, ends pending long polls and closes the listener. Idempotent. */
  close(): Promise<void>;
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
LOOPBACK.addSubnet('::ffff:127.0.0.0', 104, 'ipv6'); // IPv4-mapped 127/8

/**
 * True when binding `host` exposes the server to this machine only: `localhost`, an address in
 * 127.0.0.0/8, or `::1` (any spelling, with or without brackets, IPv4-mapped too). Anything else,
 * including wildcard addresses (`0.0.0.0`, `::`) and other host names, counts as reachable from
 * the network (a name could resolve anywhere, so it is not trusted).
 */
export function isLoopbackHost(host: string): boolean {
  if (typeof host !== 'string') return false;
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost') return true;
  const v = isIP(h);
  return v !== 0 && LOOPBACK.check(h, v === 4 ? 'ipv4' : 'ipv6');
}

/** Longest accepted `limit` of an events page. */
export const MAX_EVENTS_LIMIT = 1000;

const ADDRESS = /^0x[0-9a-f]{64}$/;
/** Opaque cursors are short strings; bound them so a query string cannot carry megabytes. */
const MAX_CURSOR_LENGTH = 256;

/** The error body every failing route returns. */
export interface ChainErrorBody {
  readonly error: {
    /** Move abort name for `kind: 'abort'`; otherwise a Tusk code (`EBadRequest`, `ENotFound`, `EInternal`, …). */
    readonly code: string;
    readonly message: string;
    readonly retryable: boolean;
    /** Which error class the client rebuilds: abort → ChainAbortError, input → TuskInputError, … */
    readonly kind: 'abort' | 'input' | 'notFound' | 'unavailable' | 'internal';
  };
}

class HttpError extends Error {
  readonly status: number;
  readonly body: ChainErrorBody;
  constructor(status: number, body: ChainErrorBody['error']) {
    super(body.message);
    this.status = status;
    this.body = { error: body };
  }
}

function badRequest(message: string): HttpError {
  return new HttpError(400, { code: 'EBadRequest', message, retryable: false, kind: 'input' });
}

function notFound(what: string): HttpError {
  return new HttpError(404, { code: 'ENotFound', message: `${what} not found`, retryable: false, kind: 'notFound' });
}

/** Maps anything thrown by the chain (or by validation) to a status and the error body. */
function toHttpError(e: unknown): HttpError {
  if (e instanceof HttpError) return e;
  if (e instanceof ChainAbortError) {
    // The error's message is "<code>: <text>"; send the text alone so the client does not double the prefix.
    const prefix = `${e.code}: `;
    const message = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
    return new HttpError(400, { code: e.code, message, retryable: e.retryable, kind: 'abort' });
  }
  if (e instanceof TuskInputError)
    return new HttpError(400, { code: 'EInvalidInput', message: e.message, retryable: false, kind: 'input' });
  if (e instanceof ChainUnavailableError)
    return new HttpError(503, { code: 'EUnavailable', message: e.message, retryable: true, kind: 'unavailable' });
  // fastify's own client errors (malformed JSON, body too large, wrong content type) carry a 4xx statusCode.
  const status = (e as { statusCode?: unknown })?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new HttpError(status, {
      code: status === 413 ? 'EBodyTooLarge' : 'EBadRequest',
      message: (e as Error).message,
      retryable: false,
      kind: 'input',
    });
  }
  const message = e instanceof Error ? e.message : String(e);
  return new HttpError(500, { code: 'EInternal', message, retryable: e instanceof TuskError ? e.retryable : false, kind: 'internal' });
}

function send(reply: FastifyReply, status: number, value: unknown): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send(encodeChainJson(value));
}

function addressParam(value: unknown, name: string): string {
  if (typeof value !== 'string' || !ADDRESS.test(value)) throw badRequest(`${name} must be 0x followed by 64 lowercase hex digits`);
  return value;
}

/** An optional non-negative integer query parameter within [min, max]. */
function intQuery(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !/^\d{1,10}$/.test(value)) throw badRequest(`${name} must be a non-negative integer`);
  const n = Number(value);
  if (n < min || n > max) throw badRequest(`${name} must be between ${min} and ${max}`);
  return n;
}

function objectBody(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the body must be a chain JSON object');
  return body as Record<string, unknown>;
}

/**
 * Starts serving `options.chain` over HTTP.
 * @pre the chain is open; it stays owned by the caller (close the server before the chain).
 * @post the server listens on the returned `url`.
 * @throws TuskInputError for invalid options; the listen error (e.g. EADDRINUSE) as is.
 */
export async function startChainServer(options: ChainServerOptions): Promise<ChainServer> {
  const { chain } = options;
  if (!chain || typeof chain.submit !== 'function') throw new TuskInputError('startChainServer needs a chain with submit()');
  const maxWaitMs = options.maxWaitMs ?? 30_000;
  const bodyLimit = options.bodyLimit ?? 1 << 20;
  const host = options.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host === '') throw new TuskInputError('host must be a non-empty string');
  if (options.devRoutes !== undefined && typeof options.devRoutes !== 'boolean') throw new TuskInputError('devRoutes must be a boolean');
  // Unauthenticated minting must not reach the network by accident: off unless loopback or asked for.
  const devRoutes = options.devRoutes ?? isLoopbackHost(host);
  if (options.challengeClock && !hasChallengeClock(chain)) throw new TuskInputError('challengeClock needs a chain with storage challenges');
  if (!Number.isInteger(maxWaitMs) || maxWaitMs < 0) throw new TuskInputError('maxWaitMs must be a non-negative integer');
  if (!Number.isInteger(bodyLimit) || bodyLimit < 1024) throw new TuskInputError('bodyLimit must be an integer ≥ 1024');
  const onError = options.onError ?? ((e: unknown) => process.stderr.write(`tusk chain server: ${(e as Error)?.stack ?? String(e)}\n`));

  // Aborted at close: ends pending long polls at once instead of holding shutdown for up to maxWaitMs.
  const shutdown = new AbortController();
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const bodyIdleMs = options.bodyIdleTimeoutMs ?? 10_000;
  if (!Number.isInteger(requestTimeoutMs) || requestTimeoutMs < 1) throw new TuskInputError('requestTimeoutMs must be a positive integer');
  if (!Number.isInteger(bodyIdleMs) || bodyIdleMs < 1) throw new TuskInputError('bodyIdleTimeoutMs must be a positive integer');
  const headersTimeoutMs = Math.min(options.headersTimeoutMs ?? 10_000, requestTimeoutMs);
  const log = options.onLog ?? (() => {});
  const app = Fastify({
    bodyLimit,
    logger: false,
    forceCloseConnections: 'idle',
    serverFactory: httpServerFactory({ headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs: 5_000 }),
  });
  const lastRefusalLog = new Map<string, number>();
  limitConnections(app.server, {
    maxPerPeer: options.maxConnectionsPerPeer ?? 256,
    maxTotal: options.maxConnections ?? 2048,
    refusal: {
      status: '429 Too Many Requests',
      body: JSON.stringify({
        error: { code: 'ETooManyConnections', message: 'too many open connections; retry later', retryable: true, kind: 'unavailable' },
      }),
    },
    onRefuse: (peer, reason) => {
      // At most one line a minute per reason: a flood must not fill the log.
      const now = Date.now();
      if ((lastRefusalLog.get(reason) ?? 0) > now - 60_000) return;
      lastRefusalLog.set(reason, now);
      log(
        reason === 'peer'
          ? `refusing connections from ${peer}: it holds the maximum of open connections`
          : 'refusing connections: the server holds the maximum of open connections',
      );
    },
  });
  // Every body is read through a watch that fails it with 408 when it stalls for bodyIdleMs
  // (a POST that sends 5 of its 1000 bytes would otherwise hold its connection until requestTimeoutMs).
  app.addHook('preParsing', async (req, reply, payload) => {
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (!hasBody) return payload;
    const watched = watchBody(payload, {
      idleMs: bodyIdleMs,
      idleError: () =>
        new HttpError(408, {
          code: 'ERequestTimeout',
          message: `no body bytes for ${bodyIdleMs} ms; the request was dropped`,
          retryable: true,
          kind: 'unavailable',
        }),
    });
    watched.once('error', () => reply.header('connection', 'close'));
    reply.raw.once('close', () => watched.destroy());
    return watched;
  });

  // Chain JSON instead of JSON.parse: a plain parse would turn {"$bigint": …} into objects and,
  // worse, nothing would stop a client from sending amounts as floats.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, decodeChainJson(body as string));
    } catch (e) {
      done(badRequest(`body is not chain JSON: ${(e as Error).message}`), undefined);
    }
  });

  app.setErrorHandler((error, _request, reply) => {
    const http = toHttpError(error);
    if (http.status >= 500) onError(error);
    return send(reply, http.status, http.body);
  });
  app.setNotFoundHandler((request, reply) =>
    send(reply, 404, {
      error: { code: 'ENoRoute', message: `no route ${request.method} ${request.url.split('?')[0]}`, retryable: false, kind: 'input' },
    }),
  );

  type Req = FastifyRequest<{ Params: Record<string, string>; Querystring: Record<string, string> }>;
  const get = (path: string, handler: (req: Req) => Promise<unknown>) =>
    app.get(path, async (req, reply) => send(reply, 200, await handler(req as Req)));
  const orNotFound = async <T>(what: string, value: Promise<T | null>): Promise<T> => {
    const v = await value;
    if (v === null || v === undefined) throw notFound(what);
    return v;
  };

  get('/v1/health', async () => {
    const state = await chain.systemState();
    return { status: 'ok', chainId: await chain.chainId(), epoch: state.epoch, epochState: state.epochState, nShards: state.nShards };
  });
  get('/v1/system-state', () => chain.systemState());
  get('/v1/committee', (req) => chain.committee(intQuery(req.query.epoch, 'epoch', 0, 0xffff_ffff)));
  get('/v1/balances/:address', async (req) => ({
    address: req.params.address,
    balance: await chain.balance(addressParam(req.params.address, 'address')),
  }));
  get('/v1/blobs/:id', (req) => orNotFound('blob object', chain.getBlob(addressParam(req.params.id, 'object ID'))));
  get('/v1/storage/:id', (req) => orNotFound('storage resource', chain.getStorage(addressParam(req.params.id, 'object ID'))));
  get('/v1/staked-wal/:id', (req) => orNotFound('staked WAL', chain.getStakedWal(addressParam(req.params.id, 'object ID'))));
  if (hasStakeValues(chain))
    get('/v1/staked-wal/:id/value', (req) => orNotFound('staked WAL', chain.stakedWalValue(addressParam(req.params.id, 'object ID'))));
  get('/v1/nodes', () => chain.nodes());
  // Storage challenges (docs/challenges.md), when the chain has them.
  if (hasChallenges(chain)) {
    get('/v1/challenges/rounds', (req) => chain.challengeRounds(intQuery(req.query.epoch, 'epoch', 0, 0xffff_ffff)));
    get('/v1/challenges/nodes/:id', (req) =>
      chain.challengeStatus(
        addressParam(req.params.id, 'node ID'),
        intQuery(req.query.fromEpoch, 'fromEpoch', 0, 0xffff_ffff),
        intQuery(req.query.toEpoch, 'toEpoch', 0, 0xffff_ffff),
      ),
    );
    get('/v1/challenges/penalties', (req) =>
      chain.challengePenalties(
        intQuery(req.query.fromEpoch, 'fromEpoch', 0, 0xffff_ffff),
        intQuery(req.query.toEpoch, 'toEpoch', 0, 0xffff_ffff),
        req.query.node === undefined ? undefined : addressParam(req.query.node, 'node ID'),
      ),
    );
    get('/v1/challenges/summary', () => chain.challengeSummary());
  }
  get('/v1/nodes/:id', (req) => orNotFound('storage node', chain.getNode(addressParam(req.params.id, 'node ID'))));
  get('/v1/owners/:address/objects', (req) => chain.ownedObjects(addressParam(req.params.address, 'address')));
  get('/v1/blob-ids/:blobId/objects', async (req) => {
    let blobId: Uint8Array;
    try {
      blobId = blobIdFromString(req.params.blobId);
    } catch (e) {
      throw badRequest((e as Error).message);
    }
    return chain.blobObjects(blobId);
  });

  // Walrus Sites reads (chain/site-objects.ts), when the chain has them.
  if (isSiteReader(chain)) {
    const sites = chain;
    get('/v1/sites/:id', (req) => orNotFound('site', sites.getSite(addressParam(req.params.id, 'site ID'))));
    get('/v1/sites/:id/resources', (req) => sites.siteResources(addressParam(req.params.id, 'site ID')));
    get('/v1/sites/:id/resource', (req) => {
      const path = req.query.path;
      if (typeof path !== 'string' || !path.startsWith('/')) throw badRequest('path must be a resource path starting with /');
      return orNotFound('site resource', sites.siteResource(addressParam(req.params.id, 'site ID'), path));
    });
    get('/v1/owners/:address/sites', (req) => sites.sitesOwnedBy(addressParam(req.params.address, 'address')));
  }

  app.get('/v1/events', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const cursor = q.cursor === undefined || q.cursor === '' ? null : q.cursor;
    if (cursor !== null && cursor.length > MAX_CURSOR_LENGTH) throw badRequest('cursor is too long');
    const limit = intQuery(q.limit, 'limit', 1, MAX_EVENTS_LIMIT);
    // A longer wait than the cap is shortened, not refused: the client simply polls again.
    const waitMs = Math.min(intQuery(q.waitMs, 'waitMs', 0, 0xffff_ffff) ?? 0, maxWaitMs);
    // The poll ends early when the client goes away (no one to answer) or the server shuts down.
    const gone = new AbortController();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) gone.abort();
    });
    const signal = AbortSignal.any([gone.signal, shutdown.signal]);
    try {
      const page = await chain.events({ cursor, limit, waitMs, signal });
      return send(reply, 200, page);
    } catch (e) {
      if (shutdown.signal.aborted) throw new ChainUnavailableError('the chain server is shutting down');
      throw e;
    }
  });

  // Epoch changes are logged wherever they come from (the clock, advance-epoch, or the
  // transaction whose epochSyncDone completed a change): compared after every write.
  let lastEpoch: string | null = null;
  const noteEpoch = async () => {
    try {
      const s = await chain.systemState();
      const now = `${s.epoch} ${s.epochState}`;
      if (lastEpoch !== null && now !== lastEpoch)
        log(
          `epoch ${s.epoch} is ${s.epochState === 'active' ? 'active' : `${s.epochState} (waiting for the nodes' epochSyncDone)`}; ${s.committee.members.length} committee members`,
        );
      lastEpoch = now;
    } catch {
      /* logging only */
    }
  };
  void noteEpoch();

  // A site publish or update is one transaction however many files it has (chain/site-objects.ts),
  // so transactions may be larger than other bodies.
  app.post('/v1/transactions', { bodyLimit: Math.max(bodyLimit, options.transactionBodyLimit ?? 32 << 20) }, async (req, reply) => {
    const body = objectBody(req.body);
    const { bytes, signature } = body;
    if (!(bytes instanceof Uint8Array) || bytes.length === 0)
      throw badRequest('bytes must be the signed transaction bytes ({"$bytes": hex})');
    if (typeof signature !== 'string' || signature.length === 0) throw badRequest('signature must be the base64 serialized signature');
    const result = await chain.submit({ bytes, signature });
    await noteEpoch();
    return send(reply, 200, result);
  });

  if (devRoutes) {
    app.post('/v1/faucet', async (req, reply) => {
      const body = objectBody(req.body);
      const recipient = addressParam(body.recipient, 'recipient');
      if (body.amount !== undefined && (typeof body.amount !== 'bigint' || body.amount <= 0n)) {
        throw badRequest('amount must be a positive FROST amount ({"$bigint": "…"})');
      }
      return send(reply, 200, await chain.requestFaucet(recipient, body.amount as bigint | undefined));
    });
    app.post('/v1/advance-epoch', async (_req, reply) => {
      const result = await chain.advanceEpoch();
      await noteEpoch();
      return send(reply, 200, result);
    });
  }

  if (options.routes) await options.routes(app);
  const address = await app.listen({ host, port: options.port ?? 0 });
  const port = (app.server.address() as { port: number }).port;
  const clock = options.epochClock ? startEpochClock(chain, shutdown.signal, onError, log, noteEpoch) : undefined;
  const roundClock = options.challengeClock
    ? runChallengeClock(chain as unknown as ChallengeClockChain, shutdown.signal, onError, log)
    : undefined;

  let closing: Promise<void> | undefined;
  return {
    url: address,
    port,
    devRoutes,
    app,
    close() {
      closing ??= (async () => {
        shutdown.abort();
        await clock;
        await roundClock;
        await app.close();
      })();
      return closing;
    },
  };
}

/**
 * Advances the chain's epoch whenever the persisted schedule says it is due. Reads `epochStartMs`
 * and `epochDurationMs` from the chain each time, so a restarted server (or an epoch advanced by
 * hand) keeps one schedule; an epoch that fell due while the server was down ends at start-up.
 * While the chain refuses with a retryable abort (an epoch change still waiting for the nodes'
 * `epochSyncDone`), it retries every second and reports only the first refusal of a streak.
 * Resolves once `signal` aborts and any advance in progress has finished.
 */
async function startEpochClock(
  chain: ServableChain,
  signal: AbortSignal,
  onError: (e: unknown) => void,
  log: (line: string) => void,
  noteEpoch: () => Promise<void>,
): Promise<void> {
  const errors = clockErrorReporter(onError);
  while (!signal.aborted) {
    // Never sleep longer than a minute between checks: an epoch advanced by hand moves the schedule.
    let sleepMs = 60_000;
    try {
      const state = await chain.systemState();
      const dueAt = state.epochStartMs + state.epochDurationMs;
      const now = Date.now();
      if (now >= dueAt) {
        await chain.advanceEpoch();
        errors.succeeded();
        log(`epoch clock: epoch ${state.epoch} ended`);
        await noteEpoch();
        sleepMs = 0;
      } else {
        sleepMs = Math.min(dueAt - now, 60_000);
      }
    } catch (e) {
      if (signal.aborted) return;
      errors.failed(e);
      sleepMs = 1000;
    }
    await pause(sleepMs, signal);
  }
}
