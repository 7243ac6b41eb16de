/**
 * The storage node's REST error model (walrus-protocol.md §5): every failed request is answered
 * with the AIP-193 envelope
 * `{"error":{code,message,status,details:[{"@type":"ErrorInfo",reason,domain,metadata}]}}`, whose
 * HTTP status equals `code`. Handlers throw {@link ApiError}s; the server's error handler turns
 * them (and anything unexpected, as an INTERNAL 500 without details) into that envelope.
 */
import { TuskError } from '../errors.ts';

/** The gRPC-style status names Walrus uses, with the HTTP status each maps to. */
export const API_STATUS = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  NOT_FOUND: 404,
  PERMISSION_DENIED: 403,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNAVAILABLE_FOR_LEGAL_REASONS: 451,
  RESOURCE_EXHAUSTED: 429,
  UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

/** A status name of {@link API_STATUS}. */
export type ApiStatus = keyof typeof API_STATUS;

/** Error domain of storage-node errors (Walrus: `storage.walrus.space`); `global` for generic ones. */
export const STORAGE_DOMAIN = 'storage.walrus.space';
/** Error domain of transport-level errors (limits, routing, internal). */
export const GLOBAL_DOMAIN = 'global';

/**
 * An error answered to the client. `reason` is Walrus's machine-readable reason
 * (e.g. `NOT_REGISTERED`); `metadata` goes into the ErrorInfo detail. Retryable when the same
 * request may succeed later (saturation, a registration not seen yet).
 */
export class ApiError extends TuskError {
  readonly status: ApiStatus;
  readonly reason: string;
  readonly domain: string;
  readonly metadata: Readonly<Record<string, unknown>>;
  private readonly httpOverride: number | undefined;
  /** `options.httpCode` overrides the status's HTTP code (e.g. 408 for a stalled body). */
  constructor(
    status: ApiStatus,
    reason: string,
    message: string,
    options: { domain?: string; metadata?: Record<string, unknown>; retryable?: boolean; httpCode?: number } = {},
  ) {
    super(message, { retryable: options.retryable ?? (status === 'RESOURCE_EXHAUSTED' || status === 'UNAVAILABLE') });
    this.status = status;
    this.reason = reason;
    this.domain = options.domain ?? STORAGE_DOMAIN;
    this.metadata = options.metadata ?? {};
    this.httpOverride = options.httpCode;
  }

  /** The HTTP status code. */
  get httpCode(): number {
    return this.httpOverride ?? API_STATUS[this.status];
  }

  /** The AIP-193 JSON body. */
  toJSON(): object {
    return {
      error: {
        code: this.httpCode,
        message: this.message,
        status: this.status,
        details: [{ '@type': 'ErrorInfo', reason: this.reason, domain: this.domain, metadata: this.metadata }],
      },
    };
  }
}

/**
 * Reasons that mean "not yet": the node may accept the same request a little later (it has not
 * seen the registration event, or does not hold every sliver for a confirmation yet).
 */
export const NOT_YET_REASONS: ReadonlySet<string> = new Set([
  'NOT_REGISTERED',
  'BLOB_NOT_REGISTERED',
  'NOT_CURRENTLY_REGISTERED',
  'MISSING_SLIVERS',
]);
/**
 * For uploads, also: a sliver PUT before the metadata PUT has landed, and a node whose buffer of
 * not-yet-registered uploads is full (Walrus answers CACHE_SATURATED with a 400). A GET's 404 is final.
 */
export const RETRYABLE_UPLOAD_REASONS: ReadonlySet<string> = new Set([...NOT_YET_REASONS, 'METADATA_NOT_FOUND', 'CACHE_SATURATED']);

/** The success envelope `{"success":{code,data}}` (HTTP status = code). */
export function success(code: number, data: unknown): object {
  return { success: { code, data } };
}

// ---- the errors the routes raise (reasons as in Walrus's storage-node errors) -------------------

/** 400 NOT_REGISTERED: no live registration of the blob (retryable: the event may still come). */
export const notRegistered = (): ApiError =>
  new ApiError('FAILED_PRECONDITION', 'NOT_REGISTERED', 'the blob has not been registered or has already expired', { retryable: true });

/** METADATA_NOT_FOUND: 400 before an upload (store the metadata first), 404 for a read. */
export const metadataNotFound = (forUpload: boolean): ApiError =>
  forUpload
    ? new ApiError('FAILED_PRECONDITION', 'METADATA_NOT_FOUND', 'blob metadata is required but missing', { retryable: true })
    : new ApiError('NOT_FOUND', 'METADATA_NOT_FOUND', 'the requested metadata is unavailable');

/** 404 SLIVER_NOT_FOUND. */
export const sliverNotFound = (): ApiError => new ApiError('NOT_FOUND', 'SLIVER_NOT_FOUND', 'the requested sliver is unavailable');

/** 400 INVALID_SLIVER: the sliver does not match its pair or the metadata. */
export const invalidSliver = (message: string): ApiError =>
  new ApiError('INVALID_ARGUMENT', 'INVALID_SLIVER', `the provided sliver is invalid: ${message}`);

/** 400 INVALID_METADATA: the metadata does not hash to the blob ID or does not fit the committee. */
export const invalidMetadata = (message: string): ApiError =>
  new ApiError('INVALID_ARGUMENT', 'INVALID_METADATA', `the provided metadata failed to verify: ${message}`);

/** 400 SHARD_NOT_ASSIGNED, with the shard and epoch in the ErrorInfo metadata. */
export const shardNotAssigned = (shard: number, epoch: number): ApiError =>
  new ApiError('FAILED_PRECONDITION', 'SHARD_NOT_ASSIGNED', `shard ${shard} is not assigned to this node in epoch ${epoch}`, {
    metadata: { shard, epoch },
  });

/** 400 INDEX_OUT_OF_RANGE. */
export const indexOutOfRange = (index: number, max: number): ApiError =>
  new ApiError('INVALID_ARGUMENT', 'INDEX_OUT_OF_RANGE', `requires 0 <= index (${index}) < ${max}`, { metadata: { index, max } });

/** 400 INVALID_ARGUMENT with the given reason (malformed paths, queries, bodies). */
export const badRequest = (reason: string, message: string): ApiError => new ApiError('INVALID_ARGUMENT', reason, message);

/** 503 UNAVAILABLE (retryable): not synchronised yet, or saturated. */
export const unavailable = (message = 'the service is currently unavailable'): ApiError =>
  new ApiError('UNAVAILABLE', 'UNAVAILABLE', message, { domain: GLOBAL_DOMAIN });

/** 429 RESOURCE_EXHAUSTED (retryable): too many requests in flight. */
export const tooManyRequests = (): ApiError =>
  new ApiError('RESOURCE_EXHAUSTED', 'TOO_MANY_REQUESTS', 'the node is handling too many requests; retry later', { domain: GLOBAL_DOMAIN });
