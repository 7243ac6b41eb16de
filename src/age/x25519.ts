/**
 * Raw X25519 over node:crypto, shared by the `X25519` recipient (AGE-SPEC §X25519) and the X25519
 * half of the hybrid `mlkem768x25519` recipient. node:crypto takes raw 32-byte keys only wrapped in
 * DER, so the two fixed prefixes below are the whole of the "parsing".
 */
import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';
import { AgeFormatError } from './errors.ts';

// DER prefixes of X25519 SubjectPublicKeyInfo / PKCS#8 keys.
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** A public KeyObject from 32 raw bytes (pre: `raw.length === 32`). */
export function x25519PublicKey(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** A private KeyObject from 32 raw bytes (pre: `raw.length === 32`; the bytes are not retained). */
export function x25519PrivateKey(raw: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
}

/** The 32 raw bytes of a public key (fresh array). */
export function x25519RawPublic(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length));
}

/** The 32 raw bytes of a private key (fresh array: the caller should wipe it after use). */
export function x25519RawPrivate(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length));
}

/**
 * X25519(secret, share). Throws AgeFormatError when `share` is not 32 bytes or is a low-order
 * point: the all-zero result is refused by both age stanza types (a malformed file, not a
 * mismatch: whoever reads it, it is invalid).
 */
export function x25519(secret: KeyObject, share: Uint8Array): Uint8Array {
  if (share.length !== 32) throw new AgeFormatError('X25519 share must be 32 bytes');
  let s: Uint8Array;
  try {
    s = new Uint8Array(diffieHellman({ privateKey: secret, publicKey: x25519PublicKey(share) }));
  } catch {
    // OpenSSL refuses low-order points itself (it checks for the all-zero result).
    throw new AgeFormatError('X25519 share is a low-order point');
  }
  if (s.every((b) => b === 0)) throw new AgeFormatError('X25519 share is a low-order point');
  return s;
}
