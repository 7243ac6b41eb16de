/**
 * Recipient and identity types of age v1: X25519 (`age1…` / `AGE-SECRET-KEY-1…`, AGE-SPEC
 * §X25519) and scrypt passphrases (AGE-SPEC §scrypt), and the parsing of key strings and files
 * for every native type (the hybrid post-quantum one lives in ./pq-recipients.ts). Both shapes
 * are pluggable (./recipient-types.ts), so other stanza types (hardware, key servers) can be
 * added without touching the format code.
 */
import { createPublicKey, generateKeyPairSync, hkdfSync, randomBytes, scrypt as scryptCb, type KeyObject } from 'node:crypto';
import { chachaOpen, chachaSeal } from './aead.ts';
import { b64Decode, b64Encode } from './base64.ts';
import { bech32Decode, bech32Encode } from './bech32.ts';
import { AgeFormatError } from './errors.ts';
import type { Stanza } from './header.ts';
import { MlKem768X25519Identity, MlKem768X25519Recipient } from './pq-recipients.ts';
import type { Identity, Recipient } from './recipient-types.ts';
import { x25519, x25519PrivateKey, x25519RawPrivate, x25519RawPublic } from './x25519.ts';

export type { Identity, Recipient } from './recipient-types.ts';
export { MlKem768X25519Identity, MlKem768X25519Recipient, POST_QUANTUM_LABEL } from './pq-recipients.ts';

const X25519_LABEL = 'age-encryption.org/v1/X25519';
const SCRYPT_LABEL = 'age-encryption.org/v1/scrypt';
const ZERO_NONCE = new Uint8Array(12);
const aeadSeal = (key: Uint8Array, plaintext: Uint8Array) => chachaSeal(key, ZERO_NONCE, plaintext);
const aeadOpen = (key: Uint8Array, sealed: Uint8Array) => chachaOpen(key, ZERO_NONCE, sealed);

/** An `age1…` public key. */
export class X25519Recipient implements Recipient {
  readonly publicKey: Uint8Array;
  /** @param publicKey 32 raw bytes (copied). */
  constructor(publicKey: Uint8Array) {
    if (publicKey.length !== 32) throw new AgeFormatError('X25519 public key must be 32 bytes');
    this.publicKey = Uint8Array.from(publicKey);
  }
  /** Parses `age1…` (Bech32, lower case). */
  static parse(s: string): X25519Recipient {
    const { hrp, data } = bech32Decode(s);
    if (hrp !== 'age' || s !== s.toLowerCase()) throw new AgeFormatError(`not an X25519 recipient: ${JSON.stringify(s.slice(0, 12))}…`);
    return new X25519Recipient(data);
  }
  toString(): string {
    return bech32Encode('age', this.publicKey);
  }
  async wrapFileKey(fileKey: Uint8Array): Promise<Stanza[]> {
    const { privateKey, publicKey } = generateKeyPairSync('x25519');
    const share = x25519RawPublic(publicKey);
    const secret = x25519(privateKey, this.publicKey);
    const salt = Buffer.concat([share, this.publicKey]);
    const wrapKey = new Uint8Array(hkdfSync('sha256', secret, salt, X25519_LABEL, 32));
    return [{ type: 'X25519', args: [b64Encode(share)], body: aeadSeal(wrapKey, fileKey) }];
  }
}

/** An `AGE-SECRET-KEY-1…` private key. */
export class X25519Identity implements Identity {
  private readonly secret: KeyObject;
  readonly recipient: X25519Recipient;
  /** @param secretKey 32 raw bytes (not retained: held as a KeyObject). */
  constructor(secretKey: Uint8Array) {
    if (secretKey.length !== 32) throw new AgeFormatError('X25519 secret key must be 32 bytes');
    this.secret = x25519PrivateKey(secretKey);
    this.recipient = new X25519Recipient(x25519RawPublic(createPublicKey(this.secret)));
  }
  /** A fresh random identity. */
  static generate(): X25519Identity {
    return new X25519Identity(randomBytes(32));
  }
  /** Parses `AGE-SECRET-KEY-1…` (Bech32, upper case). */
  static parse(s: string): X25519Identity {
    let decoded;
    try {
      decoded = bech32Decode(s);
    } catch {
      throw new AgeFormatError('malformed identity (expected AGE-SECRET-KEY-1…)');
    }
    if (decoded.hrp !== 'age-secret-key-' || s !== s.toUpperCase())
      throw new AgeFormatError('not an X25519 identity (expected AGE-SECRET-KEY-1…)');
    return new X25519Identity(decoded.data);
  }
  toString(): string {
    const raw = x25519RawPrivate(this.secret);
    const s = bech32Encode('age-secret-key-', raw).toUpperCase();
    raw.fill(0);
    return s;
  }
  async unwrapFileKey(stanzas: readonly Stanza[]): Promise<Uint8Array | null> {
    for (const st of stanzas) {
      if (st.type !== 'X25519') continue;
      if (st.args.length !== 1) throw new AgeFormatError('X25519 stanza needs exactly one argument');
      const share = b64Decode(st.args[0]);
      if (share.length !== 32) throw new AgeFormatError('X25519 share must be 32 bytes');
      if (st.body.length !== 32) throw new AgeFormatError('X25519 stanza body must be 32 bytes');
      const secret = x25519(this.secret, share);
      const salt = Buffer.concat([share, this.recipient.publicKey]);
      const wrapKey = new Uint8Array(hkdfSync('sha256', secret, salt, X25519_LABEL, 32));
      const key = aeadOpen(wrapKey, st.body);
      if (key) return key;
    }
    return null;
  }
}

/** Default scrypt work factor for encryption (2^18: ~1 s and 256 MiB, as the age CLI). */
export const DEFAULT_SCRYPT_LOG_N = 18;
/** Largest work factor accepted on decryption (memory-DoS bound: 2^22 × 1 KiB = 4 GiB… capped lower by default). */
export const MAX_SCRYPT_LOG_N = 22;

function scrypt(passphrase: string, salt: Uint8Array, logN: number): Promise<Uint8Array> {
  const N = 2 ** logN;
  return new Promise((resolve, reject) =>
    scryptCb(
      Buffer.from(passphrase, 'utf8'),
      Buffer.concat([Buffer.from(SCRYPT_LABEL), salt]),
      32,
      { N, r: 8, p: 1, maxmem: 128 * 8 * N + 2 ** 20 },
      (e, k) => (e ? reject(e) : resolve(new Uint8Array(k))),
    ),
  );
}

function checkPassphrase(passphrase: string): void {
  if (typeof passphrase !== 'string' || passphrase.length === 0) throw new AgeFormatError('empty passphrase');
}

/** A passphrase recipient. It must be the only recipient of a file (AGE-SPEC §scrypt). */
export class ScryptRecipient implements Recipient {
  readonly logN: number;
  private readonly passphrase: string;
  constructor(passphrase: string, logN = DEFAULT_SCRYPT_LOG_N) {
    checkPassphrase(passphrase);
    if (!Number.isInteger(logN) || logN < 1 || logN > 30) throw new AgeFormatError(`scrypt work factor must be 1…30, got ${logN}`);
    this.passphrase = passphrase;
    this.logN = logN;
  }
  async wrapFileKey(fileKey: Uint8Array): Promise<Stanza[]> {
    const salt = randomBytes(16);
    const key = await scrypt(this.passphrase, salt, this.logN);
    return [{ type: 'scrypt', args: [b64Encode(salt), String(this.logN)], body: aeadSeal(key, fileKey) }];
  }
}

/** A passphrase identity. Refuses work factors above `maxLogN` (default 22) before doing any work. */
export class ScryptIdentity implements Identity {
  private readonly passphrase: string;
  private readonly maxLogN: number;
  constructor(passphrase: string, options: { maxLogN?: number } = {}) {
    checkPassphrase(passphrase);
    this.passphrase = passphrase;
    this.maxLogN = options.maxLogN ?? MAX_SCRYPT_LOG_N;
  }
  async unwrapFileKey(stanzas: readonly Stanza[]): Promise<Uint8Array | null> {
    const st = stanzas.find((s) => s.type === 'scrypt');
    if (!st) return null;
    if (stanzas.length !== 1) throw new AgeFormatError('an scrypt stanza must be the only stanza');
    if (st.args.length !== 2) throw new AgeFormatError('scrypt stanza needs a salt and a work factor');
    const salt = b64Decode(st.args[0]);
    if (salt.length !== 16) throw new AgeFormatError('scrypt salt must be 16 bytes');
    if (!/^[1-9][0-9]*$/.test(st.args[1])) throw new AgeFormatError('malformed scrypt work factor');
    const logN = Number(st.args[1]);
    if (st.body.length !== 32) throw new AgeFormatError('scrypt stanza body must be 32 bytes');
    if (logN > this.maxLogN) throw new AgeFormatError(`scrypt work factor 2^${logN} exceeds the accepted maximum 2^${this.maxLogN}`);
    return aeadOpen(await scrypt(this.passphrase, salt, logN), st.body);
  }
}

/** A native identity: one that prints itself and knows its recipient. */
export type NativeIdentity = X25519Identity | MlKem768X25519Identity;
/** A native recipient (parsed from a key string). */
export type NativeRecipient = X25519Recipient | MlKem768X25519Recipient;

/** Parses one identity string: `AGE-SECRET-KEY-1…` (X25519) or `AGE-SECRET-KEY-PQ-1…` (hybrid post-quantum). */
export function parseIdentity(s: string): NativeIdentity {
  return s.startsWith('AGE-SECRET-KEY-PQ-1') ? MlKem768X25519Identity.parse(s) : X25519Identity.parse(s);
}

/** Parses one recipient string: `age1…` (X25519) or `age1pq1…` (hybrid post-quantum). */
export function parseRecipient(s: string): NativeRecipient {
  return s.startsWith('age1pq1') ? MlKem768X25519Recipient.parse(s) : X25519Recipient.parse(s);
}

/** One key per line, `#` comments and blank lines ignored; errors name the file kind and line. */
function parseLines<T>(text: string, what: string, parse: (line: string) => T): T[] {
  const out: T[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const l = line.trim();
    if (l === '' || l.startsWith('#')) return;
    try {
      out.push(parse(l));
    } catch (e) {
      throw new AgeFormatError(`${what} file line ${i + 1}: ${(e as Error).message.replace(/^age: /, '')}`);
    }
  });
  if (out.length === 0) throw new AgeFormatError(`no ${what === 'identity' ? 'identities' : 'recipients'} found`);
  return out;
}

/**
 * Parses an identity file (age-keygen layout): `#` comments and blank lines ignored, one
 * `AGE-SECRET-KEY-1…` or `AGE-SECRET-KEY-PQ-1…` per line. Throws AgeFormatError naming the bad line.
 */
export function parseIdentities(text: string): NativeIdentity[] {
  return parseLines(text, 'identity', parseIdentity);
}

/** Parses a recipients file (`age1…` / `age1pq1…` per line, `#` comments and blank lines ignored). */
export function parseRecipients(text: string): NativeRecipient[] {
  return parseLines(text, 'recipients', parseRecipient);
}

/** A recipient from a string (`age1…`, `age1pq1…`) or as is. */
export function toRecipient(r: string | Recipient): Recipient {
  return typeof r === 'string' ? parseRecipient(r.trim()) : r;
}

/** An identity from a string (`AGE-SECRET-KEY-1…`, `AGE-SECRET-KEY-PQ-1…`, or a whole identity file's text) or as is. */
export function toIdentities(i: string | Identity): Identity[] {
  return typeof i === 'string' ? parseIdentities(i) : [i];
}
