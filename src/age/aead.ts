/**
 * ChaCha20-Poly1305 (RFC 8439) for single small messages: the wrapped file keys of the age
 * stanzas (X25519 and scrypt use an all-zero nonce, HPKE its base nonce). The payload's STREAM
 * construction has its own loop in ./payload.ts (it reuses one KeyObject across chunks).
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';

/** Seals `plaintext`: returns ciphertext ‖ 16-byte tag (fresh). Pre: 32-byte key, 12-byte nonce. */
export function chachaSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  return new Uint8Array(Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]));
}

/** Opens `sealed` (ciphertext ‖ tag); null when it is too short or the tag does not verify. */
export function chachaOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array): Uint8Array | null {
  if (sealed.length < 16) return null;
  const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  try {
    return new Uint8Array(Buffer.concat([d.update(sealed.subarray(0, sealed.length - 16)), d.final()]));
  } catch {
    return null;
  }
}
