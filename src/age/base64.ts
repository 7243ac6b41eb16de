/**
 * Strict unpadded base64 (RFC 4648 standard alphabet) as the age header uses it: no padding, no
 * whitespace, and the unused low bits of the last character must be zero, so every byte string
 * has exactly one accepted spelling (a malleable header would defeat the header MAC's purpose).
 */
import { AgeFormatError } from './errors.ts';

const CANONICAL = /^[A-Za-z0-9+/]*$/;

/** Encodes without padding. */
export function b64Encode(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64').replace(/=+$/, '');
}

/**
 * Decodes strictly; throws AgeFormatError on padding, foreign characters, an impossible length
 * or non-zero trailing bits. Returns a fresh array.
 */
export function b64Decode(s: string): Uint8Array {
  if (!CANONICAL.test(s) || s.length % 4 === 1) throw new AgeFormatError('invalid base64');
  const bytes = new Uint8Array(Buffer.from(s, 'base64'));
  if (b64Encode(bytes) !== s) throw new AgeFormatError('non-canonical base64');
  return bytes;
}
