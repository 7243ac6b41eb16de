/**
 * JWT authentication of the publisher, with Walrus's claims, checks, replay cache and status codes
 * (walrus-http.md §1.6; domain `auth.publisher.walrus.space`). Tokens are verified with node:crypto
 * (HS*, EdDSA, ES256/384, RS*, PS*); without a secret a token is only decoded, as Walrus does.
 */
import { createHmac, createPublicKey, timingSafeEqual, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { ApiError, PlainError } from './http.ts';

export const AUTH_DOMAIN = 'auth.publisher.walrus.space';

/** Algorithms accepted by `--jwt-algorithm`. */
export const JWT_ALGORITHMS = [
  'HS256',
  'HS384',
  'HS512',
  'EdDSA',
  'ES256',
  'ES384',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/** Options of the JWT check (the `--jwt-*` flags). */
export interface JwtOptions {
  /** `0x…` hex or text; HS*: the shared secret, others: the public key in DER. None: decode only. */
  readonly decodeSecret?: string;
  readonly algorithm?: JwtAlgorithm;
  /** When > 0, `exp − iat` must equal this many seconds (and both claims are required). */
  readonly expiringSec?: number;
  /** Check the upload (size, epochs, send_object_to) against the claims before reading it. */
  readonly verifyUpload?: boolean;
  /** Replay-cache capacity (default 10 000; full → 500). */
  readonly cacheSize?: number;
  /** Clock leeway in seconds for exp (jsonwebtoken's default: 60). */
  readonly leewaySec?: number;
}

/** The claims (exp and jti required). */
export interface JwtClaims {
  exp: number;
  jti: string;
  iat?: number;
  send_object_to?: string;
  epochs?: number;
  max_epochs?: number;
  max_size?: number;
  size?: number;
}

const authError = (
  status: 'INVALID_ARGUMENT' | 'UNAUTHENTICATED' | 'DEADLINE_EXCEEDED' | 'RESOURCE_EXHAUSTED' | 'INTERNAL',
  reason: string,
  message: string,
) => new ApiError(status, reason, message, { domain: AUTH_DOMAIN });

/** Parses a `--jwt-decode-secret` value: `0x` + even hex → bytes, else UTF-8. @throws on bad hex. */
export function parseSecret(text: string): Buffer {
  if (text.startsWith('0x')) {
    if (!/^0x([0-9a-fA-F]{2})*$/.test(text)) throw new Error('--jwt-decode-secret: invalid hex after 0x');
    return Buffer.from(text.slice(2), 'hex');
  }
  return Buffer.from(text, 'utf8');
}

/** A publisher's JWT checker with its replay cache. */
export class JwtAuthenticator {
  private readonly o: JwtOptions;
  private readonly secret: Buffer | null;
  private readonly publicKey: KeyObject | null = null;
  /** jti → exp (seconds); entries leave when expired. */
  private readonly used = new Map<string, number>();

  constructor(options: JwtOptions) {
    this.o = options;
    this.secret = options.decodeSecret === undefined ? null : parseSecret(options.decodeSecret);
    const alg = options.algorithm ?? 'HS256';
    if (!JWT_ALGORITHMS.includes(alg)) throw new Error(`--jwt-algorithm: unknown algorithm ${alg}`);
    if (this.secret && !alg.startsWith('HS')) {
      const type = alg === 'EdDSA' ? 'spki' : alg.startsWith('ES') ? 'spki' : 'pkcs1';
      try {
        this.publicKey = createPublicKey({ key: this.secret, format: 'der', type: type as 'spki' });
      } catch {
        this.publicKey = createPublicKey({ key: this.secret, format: 'der', type: 'spki' });
      }
    }
  }

  /** Whether auth is on (any JWT flag set, as Walrus decides). */
  static enabled(o: JwtOptions | undefined): boolean {
    return !!o && (o.decodeSecret !== undefined || (o.expiringSec ?? 0) > 0 || o.verifyUpload === true);
  }

  /**
   * Checks the request's `Authorization` header before the body is read. Returns the claims and a
   * `release()` that frees the jti again if the request fails later (Walrus removes it on failure).
   * @throws PlainError 400 without a Bearer header; ApiError with Walrus's reasons otherwise.
   */
  authenticate(
    authorization: string | undefined,
    upload: { contentLength?: number; epochs: number; sendObjectTo?: string },
    nowSec = Date.now() / 1000,
  ): { claims: JwtClaims; release: () => void } {
    const m = /^Bearer (.+)$/.exec(authorization ?? '');
    if (!m) throw new PlainError(400, 'Authorization header is missing or is not a Bearer token');
    const claims = this.decode(m[1].trim(), nowSec);
    const o = this.o;
    if (typeof claims.exp !== 'number' || !Number.isSafeInteger(claims.exp) || claims.exp < 0)
      throw authError('INVALID_ARGUMENT', 'INVALID_TIMESTAMP', 'the exp claim is not a valid timestamp');
    if ((o.expiringSec ?? 0) > 0 && claims.exp - (claims.iat ?? 0) !== o.expiringSec)
      throw authError('INVALID_ARGUMENT', 'INVALID_EXPIRATION', `exp − iat must be exactly ${o.expiringSec} seconds`);
    if ((claims.size !== undefined && claims.max_size !== undefined) || (claims.epochs !== undefined && claims.max_epochs !== undefined)) {
      throw authError('INVALID_ARGUMENT', 'INCONSISTENT_TOKEN', 'the token sets both size and max_size, or both epochs and max_epochs');
    }
    if (o.verifyUpload) {
      if (upload.contentLength !== undefined) checkSize(claims, upload.contentLength);
      if (claims.epochs !== undefined && upload.epochs !== claims.epochs)
        throw authError('INVALID_ARGUMENT', 'INVALID_EPOCHS', `the token allows exactly ${claims.epochs} epochs`);
      if (claims.max_epochs !== undefined && upload.epochs > claims.max_epochs)
        throw authError('INVALID_ARGUMENT', 'INVALID_EPOCHS', `the token allows at most ${claims.max_epochs} epochs`);
      if (claims.send_object_to !== undefined && claims.send_object_to !== upload.sendObjectTo)
        throw authError('INVALID_ARGUMENT', 'INVALID_SEND_OBJECT_TO', 'send_object_to must be the address named in the token');
    }
    // Replay protection whenever auth is on (not only with verify-upload), until the token expires.
    if (typeof claims.jti !== 'string') throw authError('INVALID_ARGUMENT', 'INVALID_TOKEN', 'the token has no jti claim');
    for (const [jti, exp] of this.used) if (exp < nowSec) this.used.delete(jti);
    if (this.used.has(claims.jti)) throw authError('RESOURCE_EXHAUSTED', 'TOKEN_ALREADY_USED', 'the token was already used');
    if (this.used.size >= (o.cacheSize ?? 10_000)) throw authError('INTERNAL', 'INTERNAL_ERROR', 'the replay cache is full');
    this.used.set(claims.jti, claims.exp);
    return { claims, release: () => this.used.delete(claims.jti) };
  }

  private decode(token: string, nowSec: number): JwtClaims {
    const parts = token.split('.');
    if (parts.length !== 3) throw authError('INVALID_ARGUMENT', 'INVALID_TOKEN', 'malformed token');
    let header: { alg?: string };
    let claims: JwtClaims;
    try {
      header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    } catch {
      throw authError('INVALID_ARGUMENT', 'INVALID_TOKEN', 'the token is not valid base64url JSON');
    }
    if (typeof claims !== 'object' || claims === null || typeof header !== 'object' || header === null)
      throw authError('INVALID_ARGUMENT', 'INVALID_TOKEN', 'the token is not a JSON object');
    if (this.secret === null) return claims; // no secret: decode only (Walrus's insecure decode)
    const alg = this.o.algorithm ?? 'HS256';
    if (header.alg !== alg) throw authError('UNAUTHENTICATED', 'INVALID_SIGNATURE', `the token's algorithm is not ${alg}`);
    const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
    const sig = Buffer.from(parts[2], 'base64url');
    if (!this.verifySignature(alg, signed, sig)) throw authError('UNAUTHENTICATED', 'INVALID_SIGNATURE', 'invalid signature');
    if ((this.o.expiringSec ?? 0) > 0 && (typeof claims.exp !== 'number' || typeof claims.iat !== 'number'))
      throw authError('INVALID_ARGUMENT', 'INVALID_TOKEN', 'the token needs exp and iat claims');
    if (typeof claims.exp !== 'number') throw authError('INVALID_ARGUMENT', 'INVALID_TOKEN', 'the token has no exp claim');
    if (claims.exp + (this.o.leewaySec ?? 60) < nowSec) throw authError('DEADLINE_EXCEEDED', 'EXPIRED_SIGNATURE', 'the token has expired');
    return claims;
  }

  private verifySignature(alg: JwtAlgorithm, signed: Buffer, sig: Buffer): boolean {
    const bits = alg === 'EdDSA' ? 0 : Number(alg.slice(2));
    const hash = `sha${bits}`;
    if (alg.startsWith('HS')) {
      const want = createHmac(hash, this.secret!).update(signed).digest();
      return want.length === sig.length && timingSafeEqual(want, sig);
    }
    const key = this.publicKey!;
    try {
      if (alg === 'EdDSA') return cryptoVerify(null, signed, key, sig);
      if (alg.startsWith('ES')) return cryptoVerify(hash, signed, { key, dsaEncoding: 'ieee-p1363' }, sig);
      if (alg.startsWith('PS')) return cryptoVerify(hash, signed, { key, padding: 6, saltLength: bits / 8 }, sig);
      return cryptoVerify(hash, signed, key, sig);
    } catch {
      return false;
    }
  }
}

/** The handler re-check: the real body length against `size` / `max_size` (400 INVALID_SIZE). */
export function checkSize(claims: JwtClaims, bytes: number): void {
  if (claims.size !== undefined && bytes !== claims.size)
    throw authError('INVALID_ARGUMENT', 'INVALID_SIZE', `the token allows exactly ${claims.size} bytes`);
  if (claims.max_size !== undefined && bytes > claims.max_size)
    throw authError('INVALID_ARGUMENT', 'INVALID_SIZE', `the token allows at most ${claims.max_size} bytes`);
}
