/**
 * The age v1 payload (AGE-SPEC §Payload): a 16-byte nonce, then the plaintext in 64 KiB chunks,
 * each sealed with ChaCha20-Poly1305 (OpenSSL through node:crypto) under
 * HKDF-SHA-256(file key, nonce, "payload") with the 12-byte STREAM nonce
 * `11-byte big-endian chunk index ‖ last-chunk flag`. The flag and the counter make truncation,
 * reordering, duplication and extension detectable. Chunks are independent, so any chunk can be
 * decrypted on its own given its index and whether it is the last one (random access).
 */
import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import { AgeIntegrityError } from './errors.ts';

/** Plaintext bytes per chunk. */
export const CHUNK_SIZE = 65536;
/** Ciphertext bytes per full chunk (plaintext + Poly1305 tag). */
export const CIPHER_CHUNK_SIZE = CHUNK_SIZE + 16;
/** Bytes of the payload nonce. */
export const PAYLOAD_NONCE_SIZE = 16;

/** The payload key for `fileKey` and the file's payload nonce. */
export function payloadKey(fileKey: Uint8Array, nonce: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', fileKey, nonce, 'payload', 32));
}

function streamNonce(index: number, last: boolean): Uint8Array {
  const n = new Uint8Array(12);
  // 11-byte counter; JS numbers carry 53 bits, far beyond any real file's chunk count.
  let v = index;
  for (let i = 10; i >= 0 && v > 0; i--) {
    n[i] = v % 256;
    v = Math.floor(v / 256);
  }
  n[11] = last ? 1 : 0;
  return n;
}

/**
 * Seals chunk `index` into `out` at `offset` (plaintext ≤ 64 KiB; `out` needs plaintext.length + 16
 * bytes there). Returns the bytes written.
 */
export function sealChunk(key: Uint8Array, index: number, last: boolean, plaintext: Uint8Array, out: Uint8Array, offset: number): number {
  const c = createCipheriv('chacha20-poly1305', key, streamNonce(index, last), { authTagLength: 16 });
  const body = c.update(plaintext);
  c.final();
  out.set(body, offset);
  out.set(c.getAuthTag(), offset + body.length);
  return body.length + 16;
}

/** Opens chunk `index`; returns the plaintext, or null when authentication fails. */
export function openChunk(key: Uint8Array, index: number, last: boolean, sealed: Uint8Array): Uint8Array | null {
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
export function openChunkStrict(key: Uint8Array, index: number, last: boolean, sealed: Uint8Array): Uint8Array {
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
 * Holds at most one chunk of plaintext back (the final chunk is only known at the end). Yields
 * batches of sealed chunks (fresh buffers, owned by the consumer).
 */
export async function* sealPayload(key: Uint8Array, source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let index = 0;
  const pending = new Uint8Array(CHUNK_SIZE);
  let fill = 0;
  for await (const input of source) {
    let pos = 0;
    // Chunks completed by this input, all known non-final since more bytes follow them.
    const full = Math.max(0, Math.ceil((fill + input.length) / CHUNK_SIZE) - 1);
    const out = full > 0 ? new Uint8Array(full * CIPHER_CHUNK_SIZE) : null;
    let o = 0;
    for (let k = 0; k < full; k++) {
      if (fill > 0) {
        const take = CHUNK_SIZE - fill;
        pending.set(input.subarray(pos, pos + take), fill);
        pos += take;
        o += sealChunk(key, index++, false, pending, out!, o);
        fill = 0;
      } else {
        o += sealChunk(key, index++, false, input.subarray(pos, pos + CHUNK_SIZE), out!, o);
        pos += CHUNK_SIZE;
      }
    }
    pending.set(input.subarray(pos), fill);
    fill += input.length - pos;
    if (out) yield out;
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
export async function* openPayload(key: Uint8Array, source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
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
    if (outs.length === 1) yield outs[0];
    else if (outs.length > 1) yield Buffer.concat(outs);
  }
  if (fill === 0)
    throw new AgeIntegrityError(index === 0 ? 'truncated payload (no chunks)' : 'truncated payload: the final chunk is missing');
  yield openChunkStrict(key, index, true, buf.subarray(0, fill));
  buf = new Uint8Array(0);
}
