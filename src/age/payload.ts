/**
 * The age v1 payload (AGE-SPEC §Payload): a 16-byte nonce, then the plaintext in 64 KiB chunks,
 * each sealed with ChaCha20-Poly1305 (OpenSSL through node:crypto) under
 * HKDF-SHA-256(file key, nonce, "payload") with the 12-byte STREAM nonce
 * `11-byte big-endian chunk index ‖ last-chunk flag`. The flag and the counter make truncation,
 * reordering, duplication and extension detectable. Chunks are independent, so any chunk can be
 * decrypted on its own given its index and whether it is the last one (random access).
 */
import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';
import { AgeIntegrityError } from './errors.ts';

/** Plaintext bytes per chunk. */
export const CHUNK_SIZE = 65536;
/** Ciphertext bytes per full chunk (plaintext + Poly1305 tag). */
export const CIPHER_CHUNK_SIZE = CHUNK_SIZE + 16;
/** Bytes of the payload nonce. */
export const PAYLOAD_NONCE_SIZE = 16;

/**
 * The payload key for `fileKey` and the file's payload nonce, as a KeyObject: createCipheriv with
 * raw key bytes converts them into a key object on every call, which was 12 % of the encrypt
 * profile at 64 KiB a chunk (getKeyObjectSlots + getSlots in `node --cpu-prof`).
 */
export function payloadKey(fileKey: Uint8Array, nonce: Uint8Array): KeyObject {
  const raw = new Uint8Array(hkdfSync('sha256', fileKey, nonce, 'payload', 32));
  const key = createSecretKey(raw);
  raw.fill(0);
  return key;
}

// One nonce buffer reused for every chunk (createCipheriv copies the IV before returning).
const nonceScratch = Buffer.alloc(12);

function streamNonce(index: number, last: boolean): Uint8Array {
  const n = nonceScratch;
  // 11-byte big-endian counter: the low 6 bytes carry any JS-safe index (48 bits is 2^64 bytes of
  // plaintext at 64 KiB a chunk), the high 5 bytes stay zero.
  n.fill(0, 0, 5);
  n.writeUIntBE(index, 5, 6);
  n[11] = last ? 1 : 0;
  return n;
}

/**
 * Seals chunk `index` into `out` at `offset` (plaintext ≤ 64 KiB; `out` needs plaintext.length + 16
 * bytes there). Returns the bytes written.
 */
export function sealChunk(key: KeyObject, index: number, last: boolean, plaintext: Uint8Array, out: Uint8Array, offset: number): number {
  const c = createCipheriv('chacha20-poly1305', key, streamNonce(index, last), { authTagLength: 16 });
  const body = c.update(plaintext);
  c.final();
  out.set(body, offset);
  out.set(c.getAuthTag(), offset + body.length);
  return body.length + 16;
}

/** Opens chunk `index`; returns the plaintext, or null when authentication fails. */
export function openChunk(key: KeyObject, index: number, last: boolean, sealed: Uint8Array): Uint8Array | null {
  if (sealed.length < 16) return null;
  const d = createDecipheriv('chacha20-poly1305', key, streamNonce(index, last), { authTagLength: 16 });
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  const body = d.update(sealed.subarray(0, sealed.length - 16));
  try {
    d.final();
  } catch {
    return null;
  }
  return body;
}

/**
 * Opens chunk `index` which the framing says is (or is not) the last one, with errors that say
 * what went wrong (a chunk sealed with the other flag means truncation or trailing data).
 */
export function openChunkStrict(key: KeyObject, index: number, last: boolean, sealed: Uint8Array): Uint8Array {
  if (sealed.length < 16) throw new AgeIntegrityError(`truncated payload (chunk ${index} has ${sealed.length} bytes)`);
  const pt = openChunk(key, index, last, sealed);
  if (pt) {
    if (last && pt.length === 0 && index > 0) throw new AgeIntegrityError('empty final chunk after a full chunk');
    return pt;
  }
  if (openChunk(key, index, !last, sealed)) {
    throw new AgeIntegrityError(
      last ? `truncated payload: chunk ${index} is not the final chunk` : `trailing data after the final chunk (${index})`,
    );
  }
  throw new AgeIntegrityError(`payload chunk ${index} failed authentication (tampered, reordered or wrong key)`);
}

/** Ciphertext payload size (nonce included) for `n` plaintext bytes. */
export function payloadSize(n: number): number {
  return PAYLOAD_NONCE_SIZE + n + 16 * Math.max(1, Math.ceil(n / CHUNK_SIZE));
}

/**
 * Plaintext size for a payload (nonce included) of `size` bytes; throws AgeFormatError when no
 * plaintext size gives that payload size.
 */
export function plaintextSizeOfPayload(size: number): number {
  const body = size - PAYLOAD_NONCE_SIZE;
  if (body < 16) throw new AgeIntegrityError('truncated payload');
  const chunks = Math.ceil(body / CIPHER_CHUNK_SIZE);
  const rem = body - (chunks - 1) * CIPHER_CHUNK_SIZE;
  if (rem < 16 || (rem === 16 && chunks > 1))
    throw new AgeIntegrityError('payload size is not a valid STREAM length (truncated or extended)');
  return body - 16 * chunks;
}

/**
 * Encrypts a plaintext byte stream into payload chunks (after the caller has written the nonce).
 * Holds at most one chunk of plaintext back (the final chunk is only known at the end). Yields one
 * sealed chunk at a time (a fresh buffer, owned by the consumer).
 *
 * Why one chunk per buffer: a 64 KiB + 16 B allocation is served from the malloc heap and reused
 * as soon as the consumer drops it, whereas one buffer per 1 MiB input goes to fresh mmap'ed pages
 * whose first-touch faults halved the throughput on this VM (778 → 1,4xx MB/s in bench/age.ts).
 */
export async function* sealPayload(key: KeyObject, source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let index = 0;
  const pending = new Uint8Array(CHUNK_SIZE);
  let fill = 0;
  for await (const input of source) {
    let pos = 0;
    // Every chunk completed by this input is non-final: at least one more byte follows it.
    while (fill + input.length - pos > CHUNK_SIZE) {
      const out = Buffer.allocUnsafe(CIPHER_CHUNK_SIZE); // fully overwritten by sealChunk
      if (fill > 0) {
        const take = CHUNK_SIZE - fill;
        pending.set(input.subarray(pos, pos + take), fill);
        pos += take;
        sealChunk(key, index++, false, pending, out, 0);
        fill = 0;
      } else {
        sealChunk(key, index++, false, input.subarray(pos, pos + CHUNK_SIZE), out, 0);
        pos += CHUNK_SIZE;
      }
      yield out;
    }
    pending.set(input.subarray(pos), fill);
    fill += input.length - pos;
  }
  const out = new Uint8Array(fill + 16);
  sealChunk(key, index, true, pending.subarray(0, fill), out, 0);
  yield out;
}

/**
 * Decrypts payload chunks (the stream positioned just after the nonce). Each chunk is verified
 * before its plaintext is yielded; a missing final chunk, a second final chunk, trailing bytes or
 * a tampered chunk throws AgeIntegrityError after the verified chunks before it were yielded.
 */
export async function* openPayload(key: KeyObject, source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let index = 0;
  // Two chunks' worth: a chunk is known non-final only once a byte after it has arrived.
  let buf = new Uint8Array(2 * CIPHER_CHUNK_SIZE);
  let fill = 0;
  for await (const input of source) {
    let pos = 0;
    const outs: Uint8Array[] = [];
    while (pos < input.length) {
      if (fill === 0 && input.length - pos > CIPHER_CHUNK_SIZE) {
        // Fast path: whole chunks straight from the input, no copy.
        outs.push(openChunkStrict(key, index++, false, input.subarray(pos, pos + CIPHER_CHUNK_SIZE)));
        pos += CIPHER_CHUNK_SIZE;
        continue;
      }
      const take = Math.min(input.length - pos, buf.length - fill);
      buf.set(input.subarray(pos, pos + take), fill);
      fill += take;
      pos += take;
      if (fill > CIPHER_CHUNK_SIZE) {
        outs.push(openChunkStrict(key, index++, false, buf.subarray(0, CIPHER_CHUNK_SIZE)));
        buf.copyWithin(0, CIPHER_CHUNK_SIZE, fill);
        fill -= CIPHER_CHUNK_SIZE;
      }
    }
    // Chunk by chunk, not concatenated: the concat copy was 18 % of the decrypt profile.
    for (const o of outs) yield o;
  }
  if (fill === 0)
    throw new AgeIntegrityError(index === 0 ? 'truncated payload (no chunks)' : 'truncated payload: the final chunk is missing');
  yield openChunkStrict(key, index, true, buf.subarray(0, fill));
  buf = new Uint8Array(0);
}
