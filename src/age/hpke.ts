/**
 * The slice of HPKE (RFC 9180) that age's `mlkem768x25519` stanza uses: base mode, KDF
 * HKDF-SHA256 (0x0001), AEAD ChaCha20-Poly1305 (0x0003), a single message (sequence number 0, so
 * the nonce is the base nonce), empty associated data. The KEM runs elsewhere (./xwing.ts); this
 * file turns its shared secret into the AEAD key and nonce (RFC 9180 §5.1 KeySchedule).
 */
import { createHmac } from 'node:crypto';
import { chachaOpen, chachaSeal } from './aead.ts';

const KDF_HKDF_SHA256 = 0x0001;
const AEAD_CHACHA20POLY1305 = 0x0003;
const HASH_LEN = 32;
const ENC = new TextEncoder();

function u16(n: number): Uint8Array {
  return Uint8Array.of(n >> 8, n & 0xff);
}

function concat(...parts: Uint8Array[]): Buffer {
  return Buffer.concat(parts);
}

function extract(salt: Uint8Array, ikm: Uint8Array): Uint8Array {
  // RFC 5869: an empty salt means HashLen zero bytes.
  return new Uint8Array(
    createHmac('sha256', salt.length ? salt : new Uint8Array(HASH_LEN))
      .update(ikm)
      .digest(),
  );
}

function expand(prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let t: Uint8Array = new Uint8Array(0);
  for (let i = 1, o = 0; o < length; i++) {
    t = createHmac('sha256', prk)
      .update(concat(t, info, Uint8Array.of(i)))
      .digest();
    out.set(t.subarray(0, Math.min(t.length, length - o)), o);
    o += t.length;
  }
  return out;
}

/** The AEAD key and base nonce of an HPKE base-mode context. */
export interface HpkeKeys {
  readonly key: Uint8Array;
  readonly nonce: Uint8Array;
}

/**
 * RFC 9180 KeySchedule in mode_base (no PSK) for `kemId` with HKDF-SHA256 and ChaCha20-Poly1305.
 * Pre: `sharedSecret` is the KEM's output. Post: fresh 32-byte key and 12-byte nonce.
 */
export function hpkeBaseKeys(kemId: number, sharedSecret: Uint8Array, info: Uint8Array): HpkeKeys {
  const suite = concat(ENC.encode('HPKE'), u16(kemId), u16(KDF_HKDF_SHA256), u16(AEAD_CHACHA20POLY1305));
  const version = ENC.encode('HPKE-v1');
  const labeledExtract = (salt: Uint8Array, label: string, ikm: Uint8Array) =>
    extract(salt, concat(version, suite, ENC.encode(label), ikm));
  const labeledExpand = (prk: Uint8Array, label: string, info: Uint8Array, length: number) =>
    expand(prk, concat(u16(length), version, suite, ENC.encode(label), info), length);
  const empty = new Uint8Array(0);
  const context = concat(Uint8Array.of(0), labeledExtract(empty, 'psk_id_hash', empty), labeledExtract(empty, 'info_hash', info));
  const secret = labeledExtract(sharedSecret, 'secret', empty);
  return { key: labeledExpand(secret, 'key', context, 32), nonce: labeledExpand(secret, 'base_nonce', context, 12) };
}

/** Seals one message (empty AAD). Returns ciphertext ‖ 16-byte tag (fresh). */
export function hpkeSeal(keys: HpkeKeys, plaintext: Uint8Array): Uint8Array {
  return chachaSeal(keys.key, keys.nonce, plaintext);
}

/** Opens one message; null when the tag does not verify (a key mismatch, not a malformed file). */
export function hpkeOpen(keys: HpkeKeys, sealed: Uint8Array): Uint8Array | null {
  return chachaOpen(keys.key, keys.nonce, sealed);
}
