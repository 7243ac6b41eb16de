/**
 * HTTP plumbing shared by every gateway route: the Walrus error envelope (walrus-http.md §1.5),
 * plain-text rejections, query parsing with deny-unknown semantics, and the success headers of
 * blob reads (§2.2) plus Tusk's CORS expose list.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';

/** The domain of daemon errors (Walrus `daemon.walrus.space`). */
export const DAEMON_DOMAIN = 'daemon.walrus.space';

/** gRPC-style status string → HTTP code (walrus-http.md §1.5). */
export const STATUS_CODES = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  SIZE_EXCEEDED: 403,
  NOT_FOUND: 404,
  INTERNAL: 500,
  DEADLINE_EXCEEDED: 504,
  RANGE_NOT_SATISFIABLE: 416,
  RESOURCE_EXHAUSTED: 429,
  UNAVAILABLE_FOR_LEGAL_REASONS: 451,
  UNAVAILABLE: 503,
} as const;

export type ApiStatus = keyof typeof STATUS_CODES;

/**
 * A typed error answered with the JSON envelope. `status` decides the HTTP code; `reason` is the
 * machine-readable ErrorInfo reason clients match on.
 */
export class ApiError extends Error {
  readonly status: ApiStatus;
  readonly reason: string;
  readonly domain: string;
  /** Extra headers of the error response (e.g. `Content-Range: bytes *\/size` on a 416). */
  readonly headers: Record<string, string>;
  constructor(status: ApiStatus, reason: string, message: string, options: { domain?: string; headers?: Record<string, string> } = {}) {
    super(message);
    this.status = status;
    this.reason = reason;
    this.domain = options.domain ?? DAEMON_DOMAIN;
    this.headers = options.headers ?? {};
  }
  get code(): number {
    return STATUS_CODES[this.status];
  }
}

/** A rejection answered as plain text (axum-style extractor rejections, 413, 429). */
export class PlainError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

/** Headers every response carries: permissive CORS plus the headers browsers may read (§2.6, §6). */
export const CORS_HEADERS: Readonly<Record<string, string>> = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers':
    'ETag, Content-Range, Content-Length, Accept-Ranges, X-Quilt-Patch-Identifier, Content-Type, Content-Disposition',
};

/** Writes the JSON envelope of `e` (walrus-http.md §1.5); an internal error hides its message. */
export function sendApiError(res: ServerResponse, e: ApiError, extraHeaders: Record<string, string> = {}): void {
  const details: unknown[] = [{ '@type': 'ErrorInfo', reason: e.reason, domain: e.domain, metadata: {} }];
  let message = e.message;
  if (e.status === 'INTERNAL') {
    message = 'an internal error has occurred, please report it';
    details.push({ '@type': 'DebugInfo', stackEntries: [], detail: `TraceID: ${randomBytes(16).toString('hex')}` });
  }
  const body = JSON.stringify({ error: { status: e.status, code: e.code, message, details } });
  send(res, e.code, body, { 'content-type': 'application/json', ...e.headers, ...extraHeaders });
}

/** Writes a plain-text response. */
export function sendText(res: ServerResponse, code: number, text: string, headers: Record<string, string> = {}): void {
  send(res, code, text, { 'content-type': 'text/plain; charset=utf-8', ...headers });
}

/** Writes a JSON body. */
export function sendJson(res: ServerResponse, code: number, value: unknown, headers: Record<string, string> = {}): void {
  send(res, code, JSON.stringify(value), { 'content-type': 'application/json', ...headers });
}

function send(res: ServerResponse, code: number, body: string, headers: Record<string, string>): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const buf = Buffer.from(body);
  res.writeHead(code, { ...CORS_HEADERS, ...headers, 'content-length': String(buf.length) });
  res.end(buf);
}

/** Declared query parameter of a route. */
export interface QueryParam {
  readonly name: string;
  readonly type: 'boolean' | 'integer' | 'string';
  readonly required?: boolean;
  readonly description: string;
}

/**
 * Parses the query string of `url` against `params`: unknown or repeated names, or values of the
 * wrong type, are a 400 plain-text rejection (Walrus deserialises with deny_unknown_fields).
 */
export function parseQuery(url: URL, params: readonly QueryParam[]): Record<string, string | boolean | bigint | undefined> {
  const out: Record<string, string | boolean | bigint | undefined> = {};
  const seen = new Set<string>();
  for (const [name, value] of url.searchParams) {
    const p = params.find((q) => q.name === name);
    if (!p)
      throw new PlainError(
        400,
        `Failed to deserialize query string: unknown field \`${name}\`, expected one of ${params.map((q) => `\`${q.name}\``).join(', ') || 'none'}`,
      );
    if (seen.has(name)) throw new PlainError(400, `Failed to deserialize query string: duplicate field \`${name}\``);
    seen.add(name);
    if (p.type === 'boolean') {
      if (value !== 'true' && value !== 'false')
        throw new PlainError(400, `Failed to deserialize query string: ${name}: provided string was not \`true\` or \`false\``);
      out[name] = value === 'true';
    } else if (p.type === 'integer') {
      if (!/^\d{1,20}$/.test(value) || BigInt(value) > 2n ** 64n - 1n)
        throw new PlainError(400, `Failed to deserialize query string: ${name}: invalid digit found in string`);
      out[name] = BigInt(value);
    } else out[name] = value;
  }
  for (const p of params)
    if (p.required && !seen.has(p.name)) throw new PlainError(400, `Failed to deserialize query string: missing field \`${p.name}\``);
  return out;
}

/** The request's path and query as a URL (host irrelevant). */
export function requestUrl(req: IncomingMessage): URL {
  return new URL(req.url ?? '/', 'http://gateway.invalid');
}

/**
 * Resolves once `res` drains after a write returned false (back-pressure from a slow reader);
 * rejects with the signal's reason if the request is aborted first.
 */
export function drained(res: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const done = () => {
      signal.removeEventListener('abort', abort);
      resolve();
    };
    const abort = () => {
      res.off('drain', done);
      reject(signal.reason);
    };
    res.once('drain', done);
    signal.addEventListener('abort', abort, { once: true });
  });
}
