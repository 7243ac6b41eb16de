/**
 * Prometheus metrics of the gateway with prom-client, on their own address (Walrus: default
 * 127.0.0.1:27182, path /metrics). The HTTP metric names and labels are Walrus's
 * (walrus-http.md §2.6, telemetry.rs): http_server_active_requests,
 * http_server_request_duration_seconds, http_server_request_body_size_bytes,
 * http_server_response_body_size_bytes; plus tusk_gateway_* counters of the cache and the nodes.
 */
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const LABELS = [
  'http_request_method',
  'url_scheme',
  'http_route',
  'network_protocol_version',
  'error_type',
  'http_response_status_code',
] as const;

/** The gateway's metrics (one registry per gateway, so several may run in one process). */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly activeRequests = new Gauge({
    name: 'http_server_active_requests',
    help: 'HTTP requests in flight',
    labelNames: ['http_request_method', 'url_scheme', 'http_route'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'Time to the response headers and to the end of the payload',
    labelNames: [...LABELS, 'http_response_part'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 240],
    registers: [this.registry],
  });
  readonly requestBytes = new Histogram({
    name: 'http_server_request_body_size_bytes',
    help: 'Request body sizes',
    labelNames: LABELS,
    buckets: sizeBuckets(),
    registers: [this.registry],
  });
  readonly responseBytes = new Histogram({
    name: 'http_server_response_body_size_bytes',
    help: 'Response body sizes',
    labelNames: LABELS,
    buckets: sizeBuckets(),
    registers: [this.registry],
  });
  readonly cacheHits = new Counter({
    name: 'tusk_gateway_cache_hits_total',
    help: 'Blob reads served from the on-disk cache',
    registers: [this.registry],
  });
  readonly cacheMisses = new Counter({
    name: 'tusk_gateway_cache_misses_total',
    help: 'Blob reads that went to the storage nodes',
    registers: [this.registry],
  });
  readonly sliverBytes = new Counter({
    name: 'tusk_gateway_sliver_bytes_fetched_total',
    help: 'Sliver bytes downloaded from storage nodes',
    registers: [this.registry],
  });
  readonly rejected = new Counter({
    name: 'tusk_gateway_admission_rejected_total',
    help: 'Requests refused by admission control',
    labelNames: ['role', 'code'] as const,
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /**
   * Serves `/metrics` on `host:port` (port 0: any free port). Resolves to the server and its URL.
   */
  async serve(host: string, port: number): Promise<{ server: Server; url: string }> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (e) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String(e)),
      );
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, () => resolve()));
    const addr = server.address() as { port: number };
    return { server, url: `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}/metrics` };
  }
}

function sizeBuckets(): number[] {
  return [0, 1024, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864, 268435456, 1073741824];
}
