/**
 * Minimal BCS writers/readers for the codec's wire types (walrus-protocol.md §2, §3.4).
 * Integers are little-endian; vectors are ULEB128 length + elements.
 */
import { TuskInputError } from '../errors.ts';

/** Bytes needed for the ULEB128 encoding of `value`. */
export function ulebLength(value: number): number {
  let n = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    n++;
  }
  return n;
}

/** Writes ULEB128 `value` at `offset`; returns the offset after it. */
export function writeUleb(out: Uint8Array, offset: number, value: number): number {
  while (value >= 0x80) {
    out[offset++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  out[offset++] = value;
  return offset;
}

/**
 * Reads a BCS ULEB128 length at `offset`. Like the Rust `bcs` crate it accepts only the canonical
 * (shortest) encoding and values up to 2^32 − 1.
 */
export function readUleb(buf: Uint8Array, offset: number): { value: number; next: number } {
  const start = offset;
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 5; i++) {
    if (offset >= buf.length) throw new TuskInputError('bcs: truncated ULEB128');
    const b = buf[offset++];
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) {
      if (value > 0xffffffff) throw new TuskInputError('bcs: ULEB128 value exceeds u32');
      if (ulebLength(value) !== offset - start) throw new TuskInputError('bcs: non-canonical ULEB128');
      return { value, next: offset };
    }
    scale *= 128;
  }
  throw new TuskInputError('bcs: ULEB128 too long');
}

/** Writes a u64 (safe integer) little-endian. */
export function writeU64(out: Uint8Array, offset: number, value: number): number {
  const v = BigInt(value);
  new DataView(out.buffer, out.byteOffset, out.byteLength).setBigUint64(offset, v, true);
  return offset + 8;
}

export function writeU16(out: Uint8Array, offset: number, value: number): number {
  out[offset] = value & 0xff;
  out[offset + 1] = value >>> 8;
  return offset + 2;
}

export function readU16(buf: Uint8Array, offset: number): number {
  if (offset + 2 > buf.length) throw new TuskInputError('bcs: truncated u16');
  return buf[offset] | (buf[offset + 1] << 8);
}
