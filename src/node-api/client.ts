/**
 * An HTTP client for one storage node's REST API v1 (walrus-protocol.md §5). It speaks the Walrus
 * wire format exactly — BCS bodies, the `{"success":…}` envelope, AIP-193 errors — so the same
 * client talks to a Tusk node and to a node of the real Walrus network.
 *
 * Every call has a timeout (default 30 s, or per call) and an optional abort signal; failures are
 * `StorageNodeError`s that say whether retrying may help. The client holds no state but its URL.
 */
import type { BlobId } from '../codec/blob-id.ts';
import { BlobMetadataWithId, type BlobMetadata } from '../codec/metadata.ts';
import { SliverData, type SliverAxis } from '../codec/sliver.ts';
import { StorageNodeError, TuskError, TuskInputError } from '../errors.ts';
import { recoverySymbolsFromBcs, type RecoverySymbol } from '../codec/recovery.ts';
import { NOT_YET_REASONS, RETRYABLE_UPLOAD_REASONS } from './errors.ts';
import {
  MAX_BCS_BYTES,
  MAX_JSON_BYTES,
  nodePaths,
  type ConfirmationKind,
  type NodeBlobStatus,
  type SignedNodeMessage,
  type StoredOnNodeStatus,
  type SymbolId,
} from './wire.ts';

/** Options of `StorageNodeClient`. */
export interface StorageNodeClientOptions {
  /** Default per-request timeout in milliseconds (30 000). */
  readonly timeoutMs?: number;
  /** A `fetch` implementation (defaults to the global one). */
  readonly fetch?: typeof fetch;
}

/** Per-call options. */
export interface NodeRequestOptions {
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
  /**
   * Largest response body accepted, in bytes (default: 64 MiB for BCS bodies — above the largest
   * sliver of any committee — and 1 MiB for JSON). A node sending more is cut off: a faulty or
   * malicious node must not be able to exhaust the reader's memory.
   */
  readonly maxBytes?: number;
}

const OCTET = 'application/octet-stream';

/** The REST client of one storage node. */
export class StorageNodeClient {
  readonly url: string;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  /**
   * @param url the node's base URL (`http(s)://host:port`, no trailing path); a bare `host:port`
   *   (as network addresses are stored on chain) is taken as https for a public host and http for
   *   loopback.
   */
  constructor(url: string, options: StorageNodeClientOptions = {}) {
    this.url = normalizeNodeUrl(url);
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** `PUT /v1/blobs/{id}/metadata`; resolves to the node's message (stored / already stored). */
  async storeMetadata(blobId: BlobId, metadata: BlobMetadata, options: NodeRequestOptions = {}): Promise<string> {
    return this.json<string>('PUT', nodePaths.metadata(blobId), options, metadata.toBcs());
  }

  /** `GET /v1/blobs/{id}/metadata`. The result is NOT verified here: call `verifyMetadata`. */
  async getMetadata(blobId: BlobId, options: NodeRequestOptions = {}): Promise<BlobMetadataWithId> {
    const bytes = await this.bytes(nodePaths.metadata(blobId), options);
    try {
      return BlobMetadataWithId.fromBcs(bytes);
    } catch (e) {
      throw new StorageNodeError(this.url, 200, 'MALFORMED_RESPONSE', `metadata is not valid BCS: ${(e as Error).message}`);
    }
  }

  /** `GET /v1/blobs/{id}/metadata/status`. */
  metadataStatus(blobId: BlobId, options: NodeRequestOptions = {}): Promise<StoredOnNodeStatus> {
    return this.json<StoredOnNodeStatus>('GET', nodePaths.metadataStatus(blobId), options);
  }

  /** `PUT /v1/blobs/{id}/slivers/{pair}/{axis}` with the sliver's BCS. */
  storeSliver(blobId: BlobId, pairIndex: number, sliver: SliverData, options: NodeRequestOptions = {}): Promise<string> {
    return this.json<string>('PUT', nodePaths.sliver(blobId, pairIndex, sliver.axis), options, sliver.toBcs());
  }

  /** `GET /v1/blobs/{id}/slivers/{pair}/{axis}`. NOT verified here: call `verifySlivers`. */
  async getSliver(blobId: BlobId, pairIndex: number, axis: SliverAxis, options: NodeRequestOptions = {}): Promise<SliverData> {
    const bytes = await this.bytes(nodePaths.sliver(blobId, pairIndex, axis), options);
    try {
      return SliverData.fromBcs(axis, bytes);
    } catch (e) {
      throw new StorageNodeError(this.url, 200, 'MALFORMED_RESPONSE', `sliver is not valid BCS: ${(e as Error).message}`);
    }
  }

  /** `GET …/slivers/{pair}/{axis}/status`. */
  sliverStatus(blobId: BlobId, pairIndex: number, axis: SliverAxis, options: NodeRequestOptions = {}): Promise<StoredOnNodeStatus> {
    return this.json<StoredOnNodeStatus>('GET', nodePaths.sliverStatus(blobId, pairIndex, axis), options);
  }

  /**
   * `GET /v1/blobs/{id}/confirmation/permanent|deletable/{objectId}`. The signature is NOT
   * verified here (the caller knows the node's key and the expected message).
   * @param waitForRegistrationMs when set, asks the node to long-poll until it has seen the
   *   registration (`wait_for_registration=true&wait_millis=…`).
   */
  async getConfirmation(
    blobId: BlobId,
    kind: ConfirmationKind,
    options: NodeRequestOptions & { waitForRegistrationMs?: number } = {},
  ): Promise<SignedNodeMessage> {
    let path = nodePaths.confirmation(blobId, kind);
    if (options.waitForRegistrationMs !== undefined)
      path += `?wait_for_registration=true&wait_millis=${Math.max(0, Math.floor(options.waitForRegistrationMs))}`;
    const data = await this.json<{ signed?: { serializedMessage?: unknown; signature?: unknown } }>('GET', path, options);
    const signed = data?.signed;
    if (!signed || typeof signed.serializedMessage !== 'string' || typeof signed.signature !== 'string') {
      throw new StorageNodeError(this.url, 200, 'MALFORMED_RESPONSE', 'confirmation has no signed.serializedMessage/signature');
    }
    return {
      serializedMessage: new Uint8Array(Buffer.from(signed.serializedMessage, 'base64')),
      signature: new Uint8Array(Buffer.from(signed.signature, 'base64')),
    };
  }

  /** `GET /v1/blobs/{id}/status`. */
  blobStatus(blobId: BlobId, options: NodeRequestOptions = {}): Promise<NodeBlobStatus> {
    return this.json<NodeBlobStatus>('GET', nodePaths.blobStatus(blobId), options);
  }

  /**
   * `GET /v1/blobs/{id}/recoverySymbols?targetSliver=…&targetType=…`: the symbols this node holds
   * that rebuild sliver `target` of `axis`, one per orthogonal sliver it stores, each with its
   * Merkle proof. NOT verified here: check each with `verifyRecoverySymbol`. `maxBytes` defaults
   * to the BCS cap; shard recovery passes `recoverySymbolsAnswerLimit`.
   */
  async getRecoverySymbols(blobId: BlobId, target: number, axis: SliverAxis, options: NodeRequestOptions = {}): Promise<RecoverySymbol[]> {
    const bytes = await this.bytes(nodePaths.recoverySymbols(blobId, target, axis), options);
    try {
      return recoverySymbolsFromBcs(bytes);
    } catch (e) {
      throw new StorageNodeError(this.url, 200, 'MALFORMED_RESPONSE', `recovery symbols are not valid BCS: ${(e as Error).message}`);
    }
  }

  /**
   * `GET /v1/blobs/{id}/recoverySymbols?id=P-S&…&proofAxis=…`: the symbols at the given
   * intersections this node can prove in the tree of a `proofAxis` sliver it stores (others are
   * skipped, as Walrus does; none at all is an error). NOT verified here: check each with
   * `verifyRecoverySymbol`. Pre: 1…`maxSymbolsPerRequest` IDs (1024 on Tusk nodes).
   */
  async getRecoverySymbolsById(
    blobId: BlobId,
    ids: readonly SymbolId[],
    proofAxis: SliverAxis,
    options: NodeRequestOptions = {},
  ): Promise<RecoverySymbol[]> {
    const bytes = await this.bytes(nodePaths.recoverySymbolsById(blobId, ids, proofAxis), options);
    try {
      return recoverySymbolsFromBcs(bytes);
    } catch (e) {
      throw new StorageNodeError(this.url, 200, 'MALFORMED_RESPONSE', `recovery symbols are not valid BCS: ${(e as Error).message}`);
    }
  }

  /** `GET /v1/health` (`?detailed=true`: with the per-shard detail and storage counts). */
  health(options: NodeRequestOptions = {}, detailed = false): Promise<Record<string, unknown>> {
    return this.json<Record<string, unknown>>('GET', nodePaths.health() + (detailed ? '?detailed=true' : ''), options);
  }

  private async request(
    method: string,
    path: string,
    options: NodeRequestOptions,
    body?: Uint8Array,
    accept = 'application/json',
  ): Promise<Response> {
    const timeout = AbortSignal.timeout(options.timeoutMs ?? this.timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    let res: Response;
    try {
      res = await this.fetchImpl(this.url + path, {
        method,
        signal,
        headers: body ? { 'content-type': OCTET, accept } : { accept },
        body: body ? (toSendable(body) as BodyInit) : undefined,
      });
    } catch (e) {
      if (options.signal?.aborted) throw options.signal.reason;
      const why = timeout.aborted ? `no answer within ${options.timeoutMs ?? this.timeoutMs} ms` : (e as Error).message;
      throw new StorageNodeError(this.url, 0, null, `${method} ${path}: ${why}`, { retryable: true, cause: e });
    }
    if (res.ok) return res;
    throw await this.errorFrom(res, method, path);
  }

  private async errorFrom(res: Response, method: string, path: string): Promise<StorageNodeError> {
    let reason: string | null = null;
    let message = res.statusText;
    try {
      const raw = await this.readBody(res, method, path, {}, 64 * 1024);
      const body = JSON.parse(new TextDecoder().decode(raw)) as { error?: { message?: string; details?: { reason?: string }[] } };
      if (body?.error) {
        message = body.error.message ?? message;
        reason = body.error.details?.find((d) => typeof d?.reason === 'string')?.reason ?? null;
      }
    } catch {
      // Not JSON (a proxy's page, a truncated body): keep the status text.
    }
    const reasons = method === 'GET' ? NOT_YET_REASONS : RETRYABLE_UPLOAD_REASONS;
    const retryable = res.status === 429 || res.status >= 500 || (reason !== null && reasons.has(reason));
    return new StorageNodeError(this.url, res.status, reason, `${method} ${path}: ${message}`, { retryable });
  }

  private async json<T>(method: string, path: string, options: NodeRequestOptions, body?: Uint8Array): Promise<T> {
    const res = await this.request(method, path, options, body);
    const raw = await this.readBody(res, method, path, options, options.maxBytes ?? MAX_JSON_BYTES);
    let parsed: { success?: { data?: unknown } };
    try {
      parsed = JSON.parse(new TextDecoder().decode(raw)) as { success?: { data?: unknown } };
    } catch (e) {
      throw new StorageNodeError(this.url, res.status, 'MALFORMED_RESPONSE', `${method} ${path}: answer is not JSON`, { cause: e });
    }
    if (!parsed || typeof parsed !== 'object' || !('success' in parsed) || !parsed.success) {
      throw new StorageNodeError(this.url, res.status, 'MALFORMED_RESPONSE', `${method} ${path}: answer has no success envelope`);
    }
    return parsed.success.data as T;
  }

  private async bytes(path: string, options: NodeRequestOptions): Promise<Uint8Array> {
    const res = await this.request('GET', path, options, undefined, OCTET);
    return this.readBody(res, 'GET', path, options, options.maxBytes ?? MAX_BCS_BYTES);
  }

  /**
   * Reads a response body of at most `max` bytes. A larger declared or actual body, or a failure
   * while reading (timeout, reset), is a StorageNodeError; the latter two are retryable.
   */
  private async readBody(res: Response, method: string, path: string, options: NodeRequestOptions, max: number): Promise<Uint8Array> {
    try {
      return await readBodyCapped(res, max);
    } catch (e) {
      if (e instanceof BodyTooLargeError)
        throw new StorageNodeError(this.url, res.status, 'RESPONSE_TOO_LARGE', `${method} ${path}: ${e.message}`);
      if (options.signal?.aborted) throw options.signal.reason;
      throw new StorageNodeError(this.url, res.status, null, `${method} ${path}: reading the answer failed: ${(e as Error).message}`, {
        retryable: true,
        cause: e,
      });
    }
  }
}

/** A response body longer than the reader accepts. */
export class BodyTooLargeError extends TuskError {}

/**
 * Reads `res`'s body, refusing (without buffering it) one that declares or turns out to have more
 * than `maxBytes`: whoever answers must not be able to exhaust the reader's memory.
 * @throws BodyTooLargeError; whatever reading the stream throws (timeouts, resets).
 */
export async function readBodyCapped(res: Response, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await res.body?.cancel().catch(() => {});
    throw new BodyTooLargeError(`answer of ${declared} bytes exceeds ${maxBytes}`);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (res.body) {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      total += chunk.length;
      if (total > maxBytes) {
        await res.body.cancel().catch(() => {});
        throw new BodyTooLargeError(`answer exceeds ${maxBytes} bytes`);
      }
      chunks.push(chunk);
    }
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/**
 * fetch (undici) does not send views of a SharedArrayBuffer as bytes; large encodes hand out
 * slivers as views into a shared WebAssembly memory, so those are copied (one sliver at a time).
 */
function toSendable(body: Uint8Array): Uint8Array {
  return typeof SharedArrayBuffer !== 'undefined' && body.buffer instanceof SharedArrayBuffer ? body.slice() : body;
}

/** `host:port` → URL (http for loopback, https otherwise); URLs pass through without a trailing `/`. */
export function normalizeNodeUrl(address: string): string {
  if (typeof address !== 'string' || address.length === 0) throw new TuskInputError('storage node address is empty');
  let url = address;
  if (!/^https?:\/\//i.test(url)) {
    const host = url.split(':')[0].replace(/^\[|\]$/g, '');
    const loopback = host === 'localhost' || host.startsWith('127.') || host === '::1' || url.startsWith('[::1]');
    url = `${loopback ? 'http' : 'https'}://${url}`;
  }
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, '')}`;
  } catch {
    throw new TuskInputError(`storage node address is not a URL: ${address}`);
  }
}
