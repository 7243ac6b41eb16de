/**
 * `startDaemon(options)`: the HTTP gateway — a publisher, an aggregator, or both (Walrus's
 * `daemon`) — on one address, with Prometheus metrics on another. Requests are dispatched from the
 * route table (which also generates `/v1/api`), pass the admission queue of their class, and
 * errors become Walrus's envelope or plain-text rejections.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import type { Signer } from '@mysten/sui/cryptography';
import type { Chain } from '../chain/types.ts';
import type { TaskRunner } from '../codec/tasks.ts';
import { AdmissionQueue } from './admission.ts';
import { aggregatorRoutes, DEFAULT_ALLOWED_HEADERS } from './aggregator.ts';
import { BlobCache } from './cache.ts';
import { ApiError, CORS_HEADERS, PlainError, parseQuery, requestUrl, sendApiError, sendText } from './http.ts';
import { JwtAuthenticator, type JwtOptions } from './jwt.ts';
import { GatewayMetrics } from './metrics.ts';
import { publisherRoutes } from './publisher.ts';
import { Portal } from './portal.ts';
import { isSiteReader } from '../chain/site-objects.ts';
import { DEFAULT_MAX_QUILT_BODY_SIZE, quiltAggregatorRoutes, quiltPublisherRoutes } from './quilt-routes.ts';
import { BlobReader } from './ranges.ts';
import { apiPage, RouteTable, type RouteDefinition } from './route-table.ts';

/** Which half (or both) of the gateway to run. */
export type DaemonMode = 'publisher' | 'aggregator' | 'daemon';

/** Options of `startDaemon`. Sizes in bytes. */
export interface DaemonOptions {
  readonly mode: DaemonMode;
  readonly chain: Chain;
  /** Pays for and owns stored blobs (required for publisher and daemon). */
  readonly signer?: Signer;
  /** `host:port` to listen on (default `127.0.0.1:31415`; port 0 picks a free one). */
  readonly bindAddress?: string;
  /** `host:port` of `/metrics` (default `127.0.0.1:27182`); null disables it. */
  readonly metricsAddress?: string | null;
  /** Largest PUT body (default 10 MiB, Walrus's 10240 KiB). */
  readonly maxBodySize?: number;
  /** Largest PUT /v1/quilts body (default 100 MiB, Walrus's 102400 KiB). */
  readonly maxQuiltBodySize?: number;
  readonly publisherMaxBufferSize?: number;
  readonly publisherMaxConcurrentRequests?: number;
  readonly aggregatorMaxBufferSize?: number;
  readonly aggregatorMaxConcurrentRequests?: number;
  /** Attribute keys that may become response headers (default Walrus's list). */
  readonly allowedHeaders?: readonly string[];
  /** Aggregator: refuse larger blobs (403). */
  readonly maxBlobSize?: number;
  /** Blocked blob IDs, or the path of a YAML/text list (one `- id` or id per line). */
  readonly blocklist?: readonly string[] | string;
  /** On-disk cache of verified blobs: folder and size (default: no cache). */
  readonly cacheDir?: string;
  readonly cacheMaxBytes?: number;
  /** Range misses of one blob after which it is read whole into the cache in the background (default 2; 0: never). */
  readonly cacheFillAfterRanges?: number;
  /** Temporary files (PUT bodies, spooled slivers). */
  readonly tempDir?: string;
  readonly jwt?: JwtOptions;
  readonly pool?: TaskRunner;
  readonly nodeTimeoutMs?: number;
  /** Retries of a failed request to a storage node while storing (default 5). */
  readonly storeRetries?: number;
  /** Cache-Control of 404 answers (default `no-store`). */
  readonly notFoundCacheControl?: string;
  /** Counts bytes received from storage nodes (benchmarks, tests). */
  readonly onNodeBytes?: (bytes: number) => void;
  /**
   * Serve Walrus Sites at `<base36 id>.<portalDomain>` and `/site/<base36 id>/` (aggregator and
   * daemon modes, when the chain offers site reads; default true).
   */
  readonly portal?: boolean;
  /** The portal's domain (default `localhost`). */
  readonly portalDomain?: string;
  /** More routes (e.g. quilts), given the same chain/reader/cache. */
  readonly extraRoutes?: (shared: {
    chain: Chain;
    reader: BlobReader;
    cache: BlobCache | null;
    metrics: GatewayMetrics;
  }) => RouteDefinition[];
}

/** A running gateway. */
export interface Daemon {
  /** Base URL, e.g. `http://127.0.0.1:31415`. */
  readonly url: string;
  /** `/metrics` URL, or null. */
  readonly metricsUrl: string | null;
  readonly routes: RouteTable;
  readonly metrics: GatewayMetrics;
  readonly cache: BlobCache | null;
  /** The Walrus Sites portal, when served. */
  readonly portal: Portal | null;
  /** Stops accepting, refuses queued work with 503, waits for in-flight requests and background uploads. */
  close(): Promise<void>;
}

/** Splits `host:port` (IPv6 in brackets). */
export function parseAddress(text: string, flag: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  if (!m || Number(m[3]) > 65535) throw new Error(`${flag} must be host:port, got ${JSON.stringify(text)}`);
  return { host: m[1] ?? m[2], port: Number(m[3]) };
}

async function loadBlocklist(list: readonly string[] | string | undefined): Promise<Set<string>> {
  if (list === undefined) return new Set();
  if (typeof list !== 'string') return new Set(list);
  const text = await readFile(list, 'utf8');
  const ids = text
    .split('\n')
    .map((l) =>
      l
        .replace(/#.*/, '')
        .replace(/^\s*-\s*/, '')
        .trim()
        .replace(/^["']|["']$/g, ''),
    )
    .filter((l) => l.length > 0);
  for (const id of ids) if (!/^[A-Za-z0-9_-]{43}$/.test(id)) throw new Error(`blocklist ${list}: not a blob ID: ${id}`);
  return new Set(ids);
}

/** Starts a gateway. @throws on bad options or when an address cannot be bound. */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { mode, chain } = options;
  const publisher = mode !== 'aggregator';
  const aggregator = mode !== 'publisher';
  if (publisher && !options.signer) throw new Error(`${mode} needs a signer (the wallet that pays for storage)`);
  const metrics = new GatewayMetrics();
  const cache =
    aggregator && options.cacheDir && (options.cacheMaxBytes ?? 0) > 0
      ? await BlobCache.open({ dir: options.cacheDir, maxBytes: options.cacheMaxBytes! })
      : null;
  const reader = new BlobReader({
    chain,
    pool: options.pool,
    nodeTimeoutMs: options.nodeTimeoutMs,
    tempDir: options.tempDir,
    onNodeBytes: (n) => {
      metrics.sliverBytes.inc(n);
      options.onNodeBytes?.(n);
    },
  });
  const jwt = publisher && JwtAuthenticator.enabled(options.jwt) ? new JwtAuthenticator(options.jwt!) : null;
  const background = new Set<Promise<unknown>>();
  const table = new RouteTable();
  const queues = {
    publisher: new AdmissionQueue({
      role: 'publisher',
      maxBuffer: options.publisherMaxBufferSize ?? 8,
      maxConcurrent: options.publisherMaxConcurrentRequests ?? 8,
    }),
    aggregator: new AdmissionQueue({
      role: 'aggregator',
      maxBuffer: options.aggregatorMaxBufferSize ?? 320,
      maxConcurrent: options.aggregatorMaxConcurrentRequests ?? 256,
    }),
  };
  const title = mode === 'daemon' ? 'Walrus Daemon' : mode === 'publisher' ? 'Walrus Publisher' : 'Walrus Aggregator';
  let apiHtml = '';
  table.register(
    {
      method: 'GET',
      path: '/status',
      operationId: 'status',
      tag: 'service',
      admission: 'none',
      summary: 'Health: 200 OK while serving.',
      query: [],
      responses: { 200: 'OK' },
      handle: async ({ res }) => sendText(res, 200, 'OK'),
    },
    {
      method: 'GET',
      path: '/v1/api',
      operationId: 'apiDocs',
      tag: 'service',
      admission: 'none',
      summary: 'This API as an HTML page (Redoc) embedding its OpenAPI document.',
      query: [],
      responses: { 200: 'HTML' },
      handle: async ({ res }) => {
        res.writeHead(200, { ...CORS_HEADERS, 'content-type': 'text/html; charset=utf-8' }).end(apiHtml);
      },
    },
    {
      method: 'GET',
      path: '/v1/api/openapi.json',
      operationId: 'openApi',
      tag: 'service',
      admission: 'none',
      summary: 'The OpenAPI document generated from the route definitions.',
      query: [],
      responses: { 200: 'JSON' },
      handle: async ({ res }) => {
        res.writeHead(200, { ...CORS_HEADERS, 'content-type': 'application/json' }).end(JSON.stringify(table.openApi(title, '1.0.0')));
      },
    },
  );
  if (publisher) {
    table.register(
      ...publisherRoutes({
        chain,
        signer: options.signer!,
        pool: options.pool,
        maxBodySize: options.maxBodySize ?? 10 * 2 ** 20,
        tempDir: options.tempDir,
        jwt,
        metrics,
        background,
        nodeTimeoutMs: options.nodeTimeoutMs,
        storeRetries: options.storeRetries,
      }),
      ...quiltPublisherRoutes({
        chain,
        signer: options.signer!,
        pool: options.pool,
        maxQuiltBodySize: options.maxQuiltBodySize ?? DEFAULT_MAX_QUILT_BODY_SIZE,
        nodeTimeoutMs: options.nodeTimeoutMs,
        storeRetries: options.storeRetries,
        background,
      }),
    );
  }
  const blocklist = await loadBlocklist(options.blocklist);
  if (aggregator) {
    table.register(
      ...quiltAggregatorRoutes({
        chain,
        pool: options.pool,
        nodeTimeoutMs: options.nodeTimeoutMs,
        allowedHeaders: (options.allowedHeaders ?? DEFAULT_ALLOWED_HEADERS).map((h) => h.toLowerCase()),
        blocklist,
      }),
      ...aggregatorRoutes({
        chain,
        reader,
        cache,
        metrics,
        allowedHeaders: (options.allowedHeaders ?? DEFAULT_ALLOWED_HEADERS).map((h) => h.toLowerCase()),
        maxBlobSize: options.maxBlobSize,
        blocklist,
        notFoundCacheControl: options.notFoundCacheControl ?? 'no-store',
        cacheFillAfterRanges: options.cacheFillAfterRanges ?? 2,
      }),
    );
  }
  if (options.extraRoutes) table.register(...options.extraRoutes({ chain, reader, cache, metrics }));
  apiHtml = apiPage(table.openApi(title, '1.0.0'));
  const notFoundCacheControl = options.notFoundCacheControl ?? 'no-store';
  const portal =
    aggregator && options.portal !== false && isSiteReader(chain)
      ? new Portal({ chain, pool: options.pool, nodeTimeoutMs: options.nodeTimeoutMs, domain: options.portalDomain })
      : null;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const url = requestUrl(req);
    const site = portal?.claim(req, url);
    if (portal && site) {
      await portal.serve(req, res, url, site);
      return;
    }
    const matched = table.match(req.method ?? 'GET', url.pathname);
    const route = matched && matched !== 'method' ? matched.def.path : 'unknown';
    const labels = { http_request_method: req.method ?? '', url_scheme: 'http', http_route: route };
    metrics.activeRequests.inc(labels);
    const controller = new AbortController();
    // Time to the response headers (Walrus's http_response_part="headers"), then to the end ("payload").
    const writeHead = res.writeHead;
    res.writeHead = function (this: ServerResponse, ...args: Parameters<ServerResponse['writeHead']>) {
      const code = String(args[0]);
      metrics.duration.observe(
        {
          ...labels,
          network_protocol_version: req.httpVersion,
          error_type: Number(code) >= 500 ? code : '',
          http_response_status_code: code,
          http_response_part: 'headers',
        },
        (performance.now() - started) / 1000,
      );
      return writeHead.apply(this, args);
    } as ServerResponse['writeHead'];
    res.on('close', () => {
      if (!res.writableFinished) controller.abort(new Error('client disconnected'));
      metrics.activeRequests.dec(labels);
      const full = {
        ...labels,
        network_protocol_version: req.httpVersion,
        error_type: res.statusCode >= 500 ? String(res.statusCode) : '',
        http_response_status_code: String(res.statusCode),
      };
      metrics.duration.observe({ ...full, http_response_part: 'payload' }, (performance.now() - started) / 1000);
      metrics.responseBytes.observe(full, Number(res.getHeader('content-length') ?? 0));
    });
    try {
      if (req.method === 'OPTIONS') {
        res
          .writeHead(204, {
            'access-control-allow-origin': '*',
            'access-control-allow-methods': '*',
            'access-control-allow-headers': (req.headers['access-control-request-headers'] as string | undefined) ?? '*',
            'access-control-max-age': '86400',
          })
          .end();
        return;
      }
      if (matched === null) throw new PlainError(404, 'not found');
      if (matched === 'method') throw new PlainError(405, 'method not allowed');
      const { def, params } = matched;
      const query = parseQuery(url, def.query);
      const run = () => def.handle({ req, res, url, params, query, signal: controller.signal });
      if (def.admission === 'none') await run();
      else {
        try {
          await queues[def.admission].run(run);
        } catch (e) {
          if (e instanceof PlainError && (e.code === 429 || e.code === 503) && !res.headersSent)
            metrics.rejected.inc({ role: def.admission, code: String(e.code) });
          throw e;
        }
      }
    } catch (e) {
      if (controller.signal.aborted && !res.headersSent) {
        res.destroy();
        return;
      }
      if (e instanceof ApiError) sendApiError(res, e, e.code === 404 ? { 'cache-control': notFoundCacheControl } : {});
      else if (e instanceof PlainError) {
        sendText(res, e.code, e.message, e.code === 404 ? { 'cache-control': notFoundCacheControl } : {});
        // A rejected upload: stop reading it (the socket closes after the answer).
        if (req.method === 'PUT' && !req.complete) res.once('finish', () => req.destroy());
      } else {
        process.stderr.write(`tusk gateway: ${req.method} ${url.pathname}: ${(e as Error)?.stack ?? String(e)}\n`);
        sendApiError(res, new ApiError('INTERNAL', 'INTERNAL_ERROR', (e as Error)?.message ?? String(e)));
      }
    }
  };

  const server: Server = createServer({ requestTimeout: 0 }, (req, res) => void handle(req, res));
  // `Expect: 100-continue` (curl sends it for large uploads): an oversize body is refused before
  // the client starts sending it; anything else is told to continue and handled as usual.
  const maxBody = options.maxBodySize ?? 10 * 2 ** 20;
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    const limit = requestUrl(req).pathname === '/v1/quilts' ? (options.maxQuiltBodySize ?? DEFAULT_MAX_QUILT_BODY_SIZE) : maxBody;
    if (publisher && req.method === 'PUT' && declared > limit) {
      sendText(res, 413, `length limit exceeded: the body is ${declared} bytes, the limit is ${limit}`, { connection: 'close' });
      return;
    }
    res.writeContinue();
    void handle(req, res);
  });
  const bind = parseAddress(options.bindAddress ?? '127.0.0.1:31415', '--bind-address');
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(bind.port, bind.host, () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const url = `http://${bind.host.includes(':') ? `[${bind.host}]` : bind.host}:${port}`;
  let metricsServer: Server | null = null;
  let metricsUrl: string | null = null;
  if (options.metricsAddress !== null) {
    const m = parseAddress(options.metricsAddress ?? '127.0.0.1:27182', '--metrics-address');
    try {
      ({ server: metricsServer, url: metricsUrl } = await metrics.serve(m.host, m.port));
    } catch (e) {
      server.close();
      throw e;
    }
  }
  let closing: Promise<void> | null = null;
  return {
    url,
    metricsUrl,
    routes: table,
    metrics,
    cache,
    portal,
    close() {
      closing ??= (async () => {
        await portal?.close();
        queues.publisher.close();
        queues.aggregator.close();
        const done = Promise.all([
          new Promise<void>((r) => server.close(() => r())),
          metricsServer ? new Promise<void>((r) => metricsServer!.close(() => r())) : undefined,
        ]);
        server.closeIdleConnections();
        metricsServer?.closeIdleConnections();
        await done;
        await Promise.allSettled([...background]);
      })();
      return closing;
    },
  };
}
