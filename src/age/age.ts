/**
 * age v1 files end to end: `encrypt` (header + nonce + STREAM payload, optionally armored) and
 * `decrypt` (armor detection, header parsing, file-key unwrap, header MAC, payload) as streaming
 * transforms over async iterables of bytes — usable with `stream.pipeline` — plus random access
 * (`openEncryptedBlob`): decrypt any byte range by fetching only the chunks covering it.
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import { armorDecode, armorEncode, ARMOR_BEGIN } from './armor.ts';
import { AgeFormatError, AgeIntegrityError, AgeNoIdentityMatchError } from './errors.ts';
import { encodeHeader, headerLength, MAX_HEADER_BYTES, parseHeader, VERSION_LINE, verifyHeaderMac, type ParsedHeader } from './header.ts';
import {
  CHUNK_SIZE,
  CIPHER_CHUNK_SIZE,
  openChunkStrict,
  openPayload,
  PAYLOAD_NONCE_SIZE,
  payloadKey,
  payloadSize,
  plaintextSizeOfPayload,
  sealPayload,
} from './payload.ts';
import { ScryptRecipient, toIdentities, toRecipient, type Identity, type Recipient } from './recipients.ts';

/** Options of `encrypt`. */
export interface EncryptOptions {
  /** `age1…` strings or Recipient objects; at least one. A ScryptRecipient must be alone. */
  readonly recipients: readonly (string | Recipient)[];
  /** Write the PEM-like ASCII armor instead of binary. */
  readonly armor?: boolean;
}

/** Options of `decrypt` / `openEncryptedBlob`. */
export interface DecryptOptions {
  /** `AGE-SECRET-KEY-1…` strings (or identity file texts) or Identity objects; at least one. */
  readonly identities: readonly (string | Identity)[];
}

/**
 * True when `prefix` is not a binary age file but looks like an armored one (a `-----` line start
 * or a BEGIN line within the first KiB): it then goes to the armor decoder, whose errors are precise.
 */
function looksArmored(prefix: Uint8Array): boolean {
  const s = Buffer.from(prefix.buffer, prefix.byteOffset, Math.min(prefix.byteLength, 1024)).toString('latin1');
  if (s.startsWith(`${VERSION_LINE}\n`)) return false;
  return s.trimStart().startsWith('-----') || s.includes('-----BEGIN AGE ENCRYPTED FILE-----');
}

/** True when `prefix` (the first bytes of a file, ≥ 22 for a sure answer) starts an age file, binary or armored. */
export function isAgeEncrypted(prefix: Uint8Array): boolean {
  const s = Buffer.from(prefix.buffer, prefix.byteOffset, Math.min(prefix.byteLength, 128)).toString('latin1');
  return s.startsWith(`${VERSION_LINE}\n`) || s.trimStart().startsWith(ARMOR_BEGIN);
}

function checkRecipients(recipients: readonly Recipient[]): void {
  if (recipients.length === 0) throw new AgeFormatError('no recipients');
  if (recipients.length > 1 && recipients.some((r) => r instanceof ScryptRecipient))
    throw new AgeFormatError('a passphrase cannot be combined with other recipients');
  // age's label rule: every recipient of a file carries the same labels. A post-quantum recipient
  // next to a classic one would leave the file open to whoever breaks the classic stanza.
  const key = (r: Recipient) => [...(r.labels ?? [])].sort().join('\n');
  if (recipients.some((r) => key(r) !== key(recipients[0])))
    throw new AgeFormatError(
      'post-quantum (age1pq1…) recipients cannot be mixed with classic ones in one file (it would be only as strong as the classic stanza)',
    );
}

/** The header bytes and payload key of a new file for `recipients` (fresh file key and nonce). */
async function newFile(recipients: readonly Recipient[]): Promise<{ head: Uint8Array; key: KeyObject }> {
  checkRecipients(recipients);
  const fileKey = randomBytes(16);
  const stanzas = (await Promise.all(recipients.map((r) => r.wrapFileKey(fileKey)))).flat();
  const nonce = randomBytes(PAYLOAD_NONCE_SIZE);
  const head = Buffer.concat([encodeHeader(stanzas, fileKey), nonce]);
  const key = payloadKey(fileKey, nonce);
  fileKey.fill(0);
  return { head, key };
}

/**
 * Encrypts a plaintext byte stream. Memory: one 64 KiB chunk plus the input's own buffers.
 * Yields fresh buffers owned by the consumer.
 */
export async function* encrypt(source: AsyncIterable<Uint8Array>, options: EncryptOptions): AsyncGenerator<Uint8Array> {
  const recipients = options.recipients.map(toRecipient);
  if (options.armor) {
    yield* armorEncode(encrypt(source, { recipients }));
    return;
  }
  const { head, key } = await newFile(recipients);
  yield head;
  yield* sealPayload(key, source);
}

/** Bytes of a binary age file holding `plaintextSize` bytes for a header of `headerSize` bytes. */
export function ciphertextSize(plaintextSize: number, headerSize: number): number {
  return headerSize + payloadSize(plaintextSize);
}

/** Reads from an async iterator with push-back: the header is parsed off the front of a stream. */
class Prefix {
  private readonly it: AsyncIterator<Uint8Array>;
  buffered: Uint8Array = new Uint8Array(0);
  done = false;
  constructor(source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]();
  }
  /** Reads until `buffered` holds ≥ n bytes or the stream ends. */
  async fill(n: number): Promise<void> {
    while (this.buffered.length < n && !this.done) await this.more();
  }
  async more(): Promise<boolean> {
    const r = await this.it.next();
    if (r.done) {
      this.done = true;
      return false;
    }
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, r.value]) : r.value;
    return true;
  }
  /** The rest of the stream after dropping the first `n` buffered bytes. */
  async *rest(n: number): AsyncGenerator<Uint8Array> {
    const head = this.buffered.subarray(n);
    this.buffered = new Uint8Array(0);
    if (head.length) yield head;
    if (this.done) return;
    for (;;) {
      const r = await this.it.next();
      if (r.done) return;
      yield r.value;
    }
  }
}

/** Reads and parses the header at the front of `p`; returns it (binary input only). */
async function readHeader(p: Prefix): Promise<ParsedHeader> {
  await p.fill(VERSION_LINE.length + 1);
  if (!Buffer.from(p.buffered.subarray(0, VERSION_LINE.length + 1)).equals(Buffer.from(`${VERSION_LINE}\n`))) {
    throw new AgeFormatError(
      Buffer.from(p.buffered.subarray(0, 19)).toString('latin1') === 'age-encryption.org/'
        ? 'unsupported age version'
        : 'not an age-encrypted file (no age-encryption.org/v1 header)',
    );
  }
  for (;;) {
    if (headerLength(p.buffered) >= 0) return parseHeader(p.buffered);
    if (p.buffered.length > MAX_HEADER_BYTES) throw new AgeFormatError('header too large');
    if (!(await p.more())) throw new AgeFormatError('truncated header');
  }
}

/**
 * The file key for `header`, from the first identity that unwraps it; the header MAC is checked.
 * Throws AgeNoIdentityMatchError (naming the stanza types found) when none does.
 */
export async function unwrapFileKey(header: ParsedHeader, identities: readonly Identity[]): Promise<Uint8Array> {
  if (identities.length === 0) throw new AgeNoIdentityMatchError('no identities given');
  if (header.stanzas.some((s) => s.type === 'scrypt') && header.stanzas.length > 1)
    throw new AgeFormatError('an scrypt stanza must be the only stanza');
  for (const id of identities) {
    const fileKey = await id.unwrapFileKey(header.stanzas);
    if (fileKey) {
      if (fileKey.length !== 16) throw new AgeFormatError('unwrapped file key is not 16 bytes');
      verifyHeaderMac(header, fileKey);
      return fileKey;
    }
  }
  const types = [...new Set(header.stanzas.map((s) => s.type))].join(', ');
  throw new AgeNoIdentityMatchError(`no identity matched any of the file's recipients (stanza types: ${types}); wrong key or passphrase?`);
}

/**
 * Decrypts an age file (binary or armored, detected from the first bytes). Plaintext is yielded
 * only chunk by verified chunk; on a later failure the generator throws AgeIntegrityError, so a
 * consumer writing a file must write to a temporary name and rename on success.
 */
export async function* decrypt(source: AsyncIterable<Uint8Array>, options: DecryptOptions): AsyncGenerator<Uint8Array> {
  const identities = options.identities.flatMap(toIdentities);
  const p = new Prefix(source);
  await p.fill(1024);
  if (looksArmored(p.buffered)) {
    yield* decrypt(armorDecode(p.rest(0)), { identities });
    return;
  }
  const header = await readHeader(p);
  const fileKey = await unwrapFileKey(header, identities);
  await p.fill(header.length + PAYLOAD_NONCE_SIZE);
  if (p.buffered.length < header.length + PAYLOAD_NONCE_SIZE) throw new AgeFormatError('truncated file: no payload nonce after the header');
  const key = payloadKey(fileKey, p.buffered.subarray(header.length, header.length + PAYLOAD_NONCE_SIZE));
  fileKey.fill(0);
  yield* openPayload(key, p.rest(header.length + PAYLOAD_NONCE_SIZE));
}

/** Positional reads of a binary age file of known size (a local file, an HTTP range source…). */
export interface RandomAccessSource {
  readonly size: number;
  /** Resolves to exactly `length` bytes at `offset` (the caller stays within `size`). */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** An opened encrypted blob: its plaintext size and range decryption. */
export interface EncryptedBlob {
  readonly plaintextSize: number;
  /** Where the payload's first chunk starts in the ciphertext. */
  readonly payloadOffset: number;
  /**
   * Decrypts plaintext bytes [start, end) by reading and verifying only the chunks covering them
   * (plus the final chunk once per handle, which proves the file was not truncated). Yields one
   * buffer per chunk; memory is one chunk.
   */
  readRange(start: number, end: number): AsyncGenerator<Uint8Array>;
  /** The ciphertext byte range [start, end) holding the chunks for plaintext [a, b). */
  cipherRangeFor(a: number, b: number): { start: number; end: number };
}

/**
 * Opens a binary age file for random access (AGE-SPEC §Payload allows seeking by whole chunks).
 * Reads the header (a few KiB), unwraps the file key and checks the MAC and the payload length.
 */
export async function openEncryptedBlob(source: RandomAccessSource, options: DecryptOptions): Promise<EncryptedBlob> {
  const identities = options.identities.flatMap(toIdentities);
  let headBytes: Uint8Array = new Uint8Array(0);
  let want = Math.min(source.size, 4096);
  for (;;) {
    headBytes = await source.read(0, want);
    if (headBytes.length >= VERSION_LINE.length + 1 && !isAgeEncrypted(headBytes))
      throw new AgeFormatError('not an age-encrypted file (no age-encryption.org/v1 header)');
    if (headBytes.length > 0 && Buffer.from(headBytes.subarray(0, 64)).toString('latin1').trimStart().startsWith('-----BEGIN')) {
      throw new AgeFormatError('random access needs the binary format (this file is armored)');
    }
    if (headerLength(headBytes) >= 0) break;
    if (want >= source.size || want >= MAX_HEADER_BYTES) throw new AgeFormatError('truncated or oversized header');
    want = Math.min(source.size, want * 4);
  }
  const header = parseHeader(headBytes);
  const fileKey = await unwrapFileKey(header, identities);
  const P = header.length + PAYLOAD_NONCE_SIZE;
  if (source.size < P) throw new AgeFormatError('truncated file: no payload nonce after the header');
  const nonce =
    header.length + PAYLOAD_NONCE_SIZE <= headBytes.length
      ? headBytes.subarray(header.length, P)
      : await source.read(header.length, PAYLOAD_NONCE_SIZE);
  const key = payloadKey(fileKey, nonce);
  fileKey.fill(0);
  const plaintextSize = plaintextSizeOfPayload(source.size - header.length);
  const lastIndex = Math.max(0, Math.ceil(plaintextSize / CHUNK_SIZE) - 1);
  const chunkAt = async (i: number): Promise<Uint8Array> => {
    const start = P + i * CIPHER_CHUNK_SIZE;
    const len = Math.min(CIPHER_CHUNK_SIZE, source.size - start);
    return openChunkStrict(key, i, i === lastIndex, await source.read(start, len));
  };
  let finalVerified = false;
  const cipherRangeFor = (a: number, b: number) => {
    const i0 = Math.floor(a / CHUNK_SIZE);
    const i1 = Math.floor((b - 1) / CHUNK_SIZE);
    return { start: P + i0 * CIPHER_CHUNK_SIZE, end: Math.min(P + (i1 + 1) * CIPHER_CHUNK_SIZE, source.size) };
  };
  return {
    plaintextSize,
    payloadOffset: P,
    cipherRangeFor,
    async *readRange(start: number, end: number) {
      if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > plaintextSize) {
        throw new RangeError(`range [${start}, ${end}) outside the plaintext of ${plaintextSize} bytes`);
      }
      if (!finalVerified) {
        await chunkAt(lastIndex);
        finalVerified = true;
      }
      if (start === end) return;
      for (let i = Math.floor(start / CHUNK_SIZE); i * CHUNK_SIZE < end; i++) {
        const pt = await chunkAt(i);
        const base = i * CHUNK_SIZE;
        yield pt.subarray(Math.max(0, start - base), Math.min(pt.length, end - base));
      }
    },
  };
}
