/**
 * The age v1 header (AGE-SPEC §Header): the version line, one stanza per recipient
 * (`-> type args…` then the body in base64 wrapped at 64 columns, the last line shorter than 64,
 * possibly empty) and the MAC line `--- <base64 HMAC-SHA-256>`. This module owns the header's
 * text form both ways and the MAC; stanza semantics belong to the recipient types.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { b64Decode, b64Encode } from './base64.ts';
import { AgeFormatError, AgeIntegrityError } from './errors.ts';

/** First line of every age v1 file (without its newline). */
export const VERSION_LINE = 'age-encryption.org/v1';
/** Headers larger than this are refused (a DoS bound; real headers are a few hundred bytes per recipient). */
export const MAX_HEADER_BYTES = 1 << 20;

/** One recipient stanza: its type, its arguments and its (decoded) body. */
export interface Stanza {
  readonly type: string;
  readonly args: readonly string[];
  readonly body: Uint8Array;
}

/** A parsed header. */
export interface ParsedHeader {
  readonly stanzas: readonly Stanza[];
  /** The header bytes the MAC covers: from the version line up to and including `---`. */
  readonly macInput: Uint8Array;
  readonly mac: Uint8Array;
  /** Header length in bytes including the MAC line's newline: the payload nonce starts here. */
  readonly length: number;
}

function isArg(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 33 || c > 126) return false;
  }
  return true;
}

/**
 * Finds the end of the header in `bytes` (which starts at the file's first byte).
 * @returns the header length (past the MAC line's newline), or -1 when more bytes are needed.
 */
export function headerLength(bytes: Uint8Array): number {
  let start = 0;
  while (start < bytes.length) {
    const nl = bytes.indexOf(0x0a, start);
    if (nl < 0) return -1;
    // "--- " at a line start is the MAC line; "---" alone is malformed but also ends the header.
    if (bytes[start] === 0x2d && bytes[start + 1] === 0x2d && bytes[start + 2] === 0x2d && (bytes[start + 3] === 0x20 || start + 3 === nl))
      return nl + 1;
    start = nl + 1;
  }
  return -1;
}

/**
 * Parses a complete header (`bytes` holds at least `headerLength(bytes)` bytes).
 * Throws AgeFormatError on anything but the canonical encoding.
 */
export function parseHeader(bytes: Uint8Array): ParsedHeader {
  const length = headerLength(bytes);
  if (length < 0) throw new AgeFormatError('truncated header');
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, length).toString('latin1');
  const lines = text.slice(0, -1).split('\n');
  if (lines[0] !== VERSION_LINE)
    throw new AgeFormatError(
      lines[0].startsWith('age-encryption.org/') ? `unsupported version ${JSON.stringify(lines[0])}` : 'not an age file',
    );
  const stanzas: Stanza[] = [];
  let i = 1;
  while (i < lines.length - 1) {
    const line = lines[i];
    if (!line.startsWith('-> ')) throw new AgeFormatError('malformed stanza line');
    const parts = line.slice(3).split(' ');
    if (!parts.every(isArg)) throw new AgeFormatError('malformed stanza arguments');
    i++;
    const body: string[] = [];
    for (;;) {
      if (i >= lines.length - 1) throw new AgeFormatError('stanza body not terminated by a short line');
      const b = lines[i++];
      if (b.length > 64) throw new AgeFormatError('stanza body line longer than 64 columns');
      body.push(b);
      if (b.length < 64) break;
    }
    stanzas.push({ type: parts[0], args: parts.slice(1), body: b64Decode(body.join('')) });
  }
  const macLine = lines[lines.length - 1];
  if (!macLine.startsWith('--- ')) throw new AgeFormatError('malformed MAC line');
  const mac = b64Decode(macLine.slice(4));
  if (mac.length !== 32) throw new AgeFormatError('MAC of the wrong length');
  if (stanzas.length === 0) throw new AgeFormatError('header without recipients');
  const macEnd = length - macLine.length - 1 + 3;
  return { stanzas, macInput: bytes.slice(0, macEnd), mac, length };
}

/** The header text up to and including `---` (what the MAC covers), for the given stanzas. */
export function encodeHeaderWithoutMac(stanzas: readonly Stanza[]): Uint8Array {
  let s = `${VERSION_LINE}\n`;
  for (const st of stanzas) {
    s += `-> ${[st.type, ...st.args].join(' ')}\n`;
    const b = b64Encode(st.body);
    for (let o = 0; o <= b.length; o += 64) s += `${b.slice(o, o + 64)}\n`;
  }
  s += '---';
  return Buffer.from(s, 'latin1');
}

/** HMAC-SHA-256 of `macInput` under HKDF(fileKey, "", "header"). */
export function headerMac(fileKey: Uint8Array, macInput: Uint8Array): Uint8Array {
  const key = Buffer.from(hkdfSync('sha256', fileKey, new Uint8Array(0), 'header', 32));
  return createHmac('sha256', key).update(macInput).digest();
}

/** The complete header (with MAC line and final newline) for `stanzas` under `fileKey`. */
export function encodeHeader(stanzas: readonly Stanza[], fileKey: Uint8Array): Uint8Array {
  const macInput = encodeHeaderWithoutMac(stanzas);
  return Buffer.concat([macInput, Buffer.from(` ${b64Encode(headerMac(fileKey, macInput))}\n`, 'latin1')]);
}

/** Throws AgeIntegrityError unless the header's MAC verifies under `fileKey`. */
export function verifyHeaderMac(header: ParsedHeader, fileKey: Uint8Array): void {
  if (!timingSafeEqual(headerMac(fileKey, header.macInput), header.mac))
    throw new AgeIntegrityError('header MAC mismatch (tampered header)');
}
