/**
 * `RemoteChain`: the `Chain` (and `DevChain`) adapter for a chain served by `tusk chain serve`
 * (./server.ts). Writes are signed here, with the caller's keypair, and only the signed bytes
 * travel; reads are plain GETs. Errors come back as the classes the in-process chain throws:
 * a Move-style abort is a `ChainAbortError` with the same `code` and `retryable`, bad input a
 * `TuskInputError`, and anything that says "the chain did not answer" (connection refused or
 * reset, a timeout, a 5xx) a retryable `ChainUnavailableError`.
 */
import type { BlobId } from '../../codec/blob-id.ts';
import { blobIdToString } from '../../codec/blob-id.ts';
import { ChainAbortError, ChainUnavailableError, TuskError, TuskInputError } from '../../errors.ts';
import { decodeChainJson, encodeChainJson } from '../json.ts';
import { SigningChain } from '../signing-chain.ts';
import type { SiteObject, SiteReader, SiteResource } from '../site-objects.ts';
import type { SignedTransaction } from '../transaction.ts';
import type {
  ChallengeReads,
  ChallengeNodeStatus,
  ChallengePenaltyRecord,
  ChallengeRoundInfo,
  ChallengeSummary,
  StakedWalValue,
  Address,
  BlobObject,
  CommitteeInfo,
  DevChain,
  EventPage,
  EventQueryOptions,
  ObjectId,
  OwnedObject,
  StakedWal,
  StorageNodeInfo,
  StorageResource,
  SystemState,
  TxEffects,
} from '../types.ts';
import type { ChainErrorBody } from './server.ts';
import { withRetries } from '../../util/async.ts';

/** Options of `RemoteChain`. */
export interface RemoteChainOptions {
  /** Base URL of the chain server, e.g. `http://127.0.0.1:9100`. */
  readonly url: string;
  /** Per-request time limit in ms (default 10 000); a long poll gets its `waitMs` on top. */
  readonly timeoutMs?: number;
  /** `fetch` to use (default: the global one). */
  readonly fetch?: typeof fetch;
  /**
   * How many times `submit` re-sends the same signed transaction after a `ChainUnavailableError`
   * (default 5). Safe because the chain executes a digest at most once.
   */
  readonly submitRetries?: number;
  /** First backoff delay of those retries in ms (default 200; doubles per attempt, capped at 5 s). */
  readonly retryBaseDelayMs?: number;
}

/** `fromEpoch` / `toEpoch` query parameters (each optional); throws TuskInputError when one is not a u32. */
function epochRangeQuery(fromEpoch?: number, toEpoch?: number): URLSearchParams {
  const q = new URLSearchParams();
  for (const [n, v] of [
    ['fromEpoch', fromEpoch],
    ['toEpoch', toEpoch],
  ] as const) {
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) throw new TuskInputError(`${n} must be a u32`);
    q.set(n, String(v));
  }
  return q;
}

/**
 * A chain reached over HTTP.
 * @remarks Stateless apart from the cached chain ID; any number of instances may share a server.
 */
export class RemoteChain extends SigningChain implements DevChain, SiteReader, ChallengeReads {
  readonly url: string;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;
  private readonly submitRetries: number;
  private readonly retryBaseDelayMs: number;
  private cachedChainId: Promise<string> | undefined;

  /** @throws TuskInputError for a URL that is not http(s) or invalid numeric options. */
  constructor(options: RemoteChainOptions) {
    super();
    let parsed: URL;
    try {
      parsed = new URL(options.url);
    } catch {
      throw new TuskInputError(`chain URL is not a URL: ${JSON.stringify(options.url)}`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new TuskInputError(`chain URL must be http(s): ${options.url}`);
    this.url = parsed.href.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.submitRetries = options.submitRetries ?? 5;
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 200;
    if (!Number.isInteger(this.timeoutMs) || this.timeoutMs <= 0) throw new TuskInputError('timeoutMs must be a positive integer');
    if (!Number.isInteger(this.submitRetries) || this.submitRetries < 0 || this.submitRetries > 20)
      throw new TuskInputError('submitRetries must be an integer in 0…20');
    if (!Number.isInteger(this.retryBaseDelayMs) || this.retryBaseDelayMs < 0)
      throw new TuskInputError('retryBaseDelayMs must be a non-negative integer');
    this.fetchFn = options.fetch ?? fetch;
  }

  /**
   * One HTTP exchange. Resolves to the decoded body; `null` for a 404 `ENotFound` when
   * `allowNotFound`. Throws the error classes described in the module comment.
   */
  private async request(
    method: 'GET' | 'POST',
    path: string,
    options: { body?: unknown; extraTimeMs?: number; signal?: AbortSignal; allowNotFound?: boolean } = {},
  ): Promise<unknown> {
    const timeout = AbortSignal.timeout(this.timeoutMs + (options.extraTimeMs ?? 0));
    const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    let response!: Response;
    let text!: string;
    const exchange = async () => {
      response = await this.fetchFn(this.url + path, {
        method,
        headers:
          options.body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
        body: options.body === undefined ? undefined : encodeChainJson(options.body),
        signal,
      });
      text = await response.text();
    };
    try {
      try {
        await exchange();
      } catch (e) {
        // A kept-alive connection the server closed just as it was reused (its idle timeout racing
        // a slow client) fails before the request reached the server: a read is sent once more.
        const code = (e as { cause?: { code?: string } }).cause?.code;
        if (method !== 'GET' || signal.aborted || (code !== 'UND_ERR_SOCKET' && code !== 'ECONNRESET')) throw e;
        await exchange();
      }
    } catch (e) {
      // The caller's own abort is not the chain's fault: rethrow it as it came.
      if (options.signal?.aborted) throw options.signal.reason ?? e;
      if (timeout.aborted)
        throw new ChainUnavailableError(
          `chain ${this.url} did not answer ${method} ${path} within ${this.timeoutMs + (options.extraTimeMs ?? 0)} ms`,
          { cause: e },
        );
      const cause = (e as { cause?: { code?: string } }).cause;
      throw new ChainUnavailableError(`chain ${this.url} unreachable (${cause?.code ?? (e as Error).message})`, { cause: e });
    }
    let body: unknown;
    try {
      body = text === '' ? undefined : decodeChainJson(text);
    } catch (e) {
      if (response.status >= 500)
        throw new ChainUnavailableError(`chain ${this.url} answered ${response.status} with a body that is not chain JSON`);
      throw new TuskError(`chain ${this.url} answered ${method} ${path} with a body that is not chain JSON: ${(e as Error).message}`);
    }
    if (response.ok) return body;
    const err = (body as Partial<ChainErrorBody> | undefined)?.error;
    if (response.status >= 500 || !err || typeof err.code !== 'string') {
      const what = err && typeof err.message === 'string' ? `: ${err.message}` : '';
      if (response.status >= 500)
        throw new ChainUnavailableError(`chain ${this.url} failed ${method} ${path} with HTTP ${response.status}${what}`);
      throw new TuskError(`chain ${this.url} answered ${method} ${path} with HTTP ${response.status}${what}`);
    }
    switch (err.kind) {
      case 'abort':
        throw new ChainAbortError(err.code, String(err.message), { retryable: err.retryable === true });
      case 'notFound':
        if (options.allowNotFound) return null;
        throw new TuskInputError(String(err.message));
      case 'unavailable':
        // 408 (a stalled body) or 429 (too many connections from this peer): worth a retry.
        throw new ChainUnavailableError(`chain ${this.url}: ${String(err.message)}`);
      default:
        // The server already validated or the chain rejected the input: its message says what.
        throw new TuskInputError(String(err.message));
    }
  }

  private get<T>(path: string, allowNotFound = false): Promise<T> {
    return this.request('GET', path, { allowNotFound }) as Promise<T>;
  }

  /** The served chain's ID (fetched once, then cached; a failed fetch is not cached). */
  chainId(): Promise<string> {
    if (!this.cachedChainId) {
      const p = this.get<{ chainId: string }>('/v1/health').then((h) => {
        if (typeof h?.chainId !== 'string') throw new TuskError(`chain ${this.url} health has no chainId`);
        return h.chainId;
      });
      this.cachedChainId = p;
      p.catch(() => {
        if (this.cachedChainId === p) this.cachedChainId = undefined;
      });
    }
    return this.cachedChainId;
  }

  /** The server's health answer: chain ID, epoch, epoch state, shard count. */
  health(): Promise<{ status: string; chainId: string; epoch: number; epochState: string; nShards: number }> {
    return this.get('/v1/health');
  }

  /**
   * Sends a signed transaction. A `ChainUnavailableError` (no answer, or a 5xx) is retried with
   * the same bytes up to `submitRetries` times with exponential backoff: if the first attempt was
   * executed and only its answer was lost, the chain returns the stored result instead of
   * executing again. Chain aborts and input errors are not retried here.
   * @throws the last ChainUnavailableError once the retries are spent.
   */
  async submit(tx: SignedTransaction): Promise<unknown> {
    if (!(tx?.bytes instanceof Uint8Array) || typeof tx.signature !== 'string')
      throw new TuskInputError('submit needs { bytes: Uint8Array, signature: string }');
    return withRetries(() => this.request('POST', '/v1/transactions', { body: { bytes: tx.bytes, signature: tx.signature } }), {
      baseDelayMs: this.retryBaseDelayMs,
      shouldRetry: (e, attempt) => e instanceof ChainUnavailableError && attempt < this.submitRetries,
    });
  }

  async systemState(): Promise<SystemState> {
    return this.get('/v1/system-state');
  }
  async committee(epoch?: number): Promise<CommitteeInfo> {
    if (epoch !== undefined && (!Number.isInteger(epoch) || epoch < 0 || epoch > 0xffff_ffff))
      throw new TuskInputError('epoch must be a u32');
    return this.get(epoch === undefined ? '/v1/committee' : `/v1/committee?epoch=${epoch}`);
  }
  async balance(address: Address): Promise<bigint> {
    const r = await this.get<{ balance: bigint }>(`/v1/balances/${checkId(address, 'address')}`);
    return r.balance;
  }
  async getBlob(objectId: ObjectId): Promise<BlobObject | null> {
    return this.get(`/v1/blobs/${checkId(objectId, 'object ID')}`, true);
  }
  async getStorage(objectId: ObjectId): Promise<StorageResource | null> {
    return this.get(`/v1/storage/${checkId(objectId, 'object ID')}`, true);
  }
  async getStakedWal(objectId: ObjectId): Promise<StakedWal | null> {
    return this.get(`/v1/staked-wal/${checkId(objectId, 'object ID')}`, true);
  }
  async getNode(nodeId: ObjectId): Promise<StorageNodeInfo | null> {
    return this.get(`/v1/nodes/${checkId(nodeId, 'node ID')}`, true);
  }
  async nodes(): Promise<StorageNodeInfo[]> {
    return this.get('/v1/nodes');
  }
  /** Storage-challenge rounds of `epoch` (default: current); see docs/challenges.md. */
  async challengeRounds(epoch?: number): Promise<ChallengeRoundInfo[]> {
    if (epoch !== undefined && (!Number.isInteger(epoch) || epoch < 0 || epoch > 0xffff_ffff))
      throw new TuskInputError('epoch must be a u32');
    return this.get(epoch === undefined ? '/v1/challenges/rounds' : `/v1/challenges/rounds?epoch=${epoch}`);
  }
  /** One node's challenge record over epochs from…to (default: all). */
  async challengeStatus(nodeId: ObjectId, fromEpoch?: number, toEpoch?: number): Promise<ChallengeNodeStatus> {
    const q = epochRangeQuery(fromEpoch, toEpoch);
    const qs = q.toString();
    return this.get(`/v1/challenges/nodes/${checkId(nodeId, 'node ID')}${qs ? `?${qs}` : ''}`);
  }
  /** Settlements over epochs from…to (default: all), of every node or of `nodeId`. */
  async challengePenalties(fromEpoch?: number, toEpoch?: number, nodeId?: ObjectId): Promise<ChallengePenaltyRecord[]> {
    const q = epochRangeQuery(fromEpoch, toEpoch);
    if (nodeId !== undefined) q.set('node', checkId(nodeId, 'node ID'));
    const qs = q.toString();
    return this.get(`/v1/challenges/penalties${qs ? `?${qs}` : ''}`);
  }
  /** Current round, last outcomes, jailed nodes, burnt and slashed totals. */
  async challengeSummary(): Promise<ChallengeSummary> {
    return this.get('/v1/challenges/summary');
  }
  /** What a StakedWal is worth at its pool's exchange rate now, or null if it does not exist. */
  async stakedWalValue(objectId: ObjectId): Promise<StakedWalValue | null> {
    return this.get(`/v1/staked-wal/${checkId(objectId, 'object ID')}/value`, true);
  }
  async ownedObjects(address: Address): Promise<OwnedObject[]> {
    return this.get(`/v1/owners/${checkId(address, 'address')}/objects`);
  }
  // Walrus Sites (chain/site-objects.ts)
  async getSite(siteId: ObjectId): Promise<SiteObject | null> {
    return this.get(`/v1/sites/${checkId(siteId, 'site ID')}`, true);
  }
  async siteResource(siteId: ObjectId, path: string): Promise<SiteResource | null> {
    if (typeof path !== 'string' || !path.startsWith('/')) throw new TuskInputError('a resource path starts with /');
    return this.get(`/v1/sites/${checkId(siteId, 'site ID')}/resource?path=${encodeURIComponent(path)}`, true);
  }
  async siteResources(siteId: ObjectId): Promise<SiteResource[]> {
    return this.get(`/v1/sites/${checkId(siteId, 'site ID')}/resources`);
  }
  async sitesOwnedBy(owner: Address): Promise<SiteObject[]> {
    return this.get(`/v1/owners/${checkId(owner, 'address')}/sites`);
  }
  async blobObjects(blobId: BlobId): Promise<BlobObject[]> {
    return this.get(`/v1/blob-ids/${blobIdToString(blobId)}/objects`);
  }

  /**
   * Events after `cursor`. With `waitMs`, a long poll: the server holds the request up to
   * min(waitMs, its cap) for a first event; the HTTP time limit is extended by `waitMs`.
   */
  async events(options: EventQueryOptions = {}): Promise<EventPage> {
    const q = new URLSearchParams();
    if (options.cursor !== undefined && options.cursor !== null) q.set('cursor', options.cursor);
    if (options.limit !== undefined) q.set('limit', String(options.limit));
    if (options.waitMs !== undefined) q.set('waitMs', String(options.waitMs));
    const query = q.size > 0 ? `?${q}` : '';
    return this.request('GET', `/v1/events${query}`, { extraTimeMs: options.waitMs ?? 0, signal: options.signal }) as Promise<EventPage>;
  }

  /** Mints FROST to `recipient` through the server's faucet (a dev route). Not retried: it is not idempotent. */
  async requestFaucet(recipient: Address, amount?: bigint): Promise<TxEffects & { amount: bigint }> {
    if (amount !== undefined && (typeof amount !== 'bigint' || amount <= 0n))
      throw new TuskInputError('amount must be a positive bigint (FROST)');
    return this.request('POST', '/v1/faucet', {
      body: amount === undefined ? { recipient: checkId(recipient, 'recipient') } : { recipient: checkId(recipient, 'recipient'), amount },
    }) as Promise<TxEffects & { amount: bigint }>;
  }

  /** Ends the current epoch now (a dev route). Not retried: a retry could advance twice. */
  async advanceEpoch(): Promise<TxEffects & { epoch: number }> {
    return this.request('POST', '/v1/advance-epoch', { body: {} }) as Promise<TxEffects & { epoch: number }>;
  }
}

/** Addresses and object IDs go into URL paths: check their form first (no path tricks). */
function checkId(id: string, what: string): string {
  if (typeof id !== 'string' || !/^0x[0-9a-f]{64}$/.test(id))
    throw new TuskInputError(`${what} must be 0x followed by 64 lowercase hex digits, got ${JSON.stringify(id)}`);
  return id;
}
