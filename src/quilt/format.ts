/**
 * The QuiltV1 wire format (walrus-http.md §3): geometry, identifier rules, the BCS of identifiers,
 * tag maps and the quilt index, and the 6-byte patch header. Both ends (the encoder in
 * `encode.ts`, the readers in `read.ts`) use only these functions, so the format lives once.
 *
 * Geometry: a quilt is the R × C × S message matrix of an ordinary RS2 blob (R = n − 2f rows,
 * C = n − f columns, S the symbol size), row-major; column c is the systematic part of secondary
 * sliver c. Byte strings (the index, each patch) are written column-major from a start column.
 */
import { readUleb, ulebLength, writeUleb } from '../codec/bcs.ts';
import { TuskInputError } from '../errors.ts';

/** Version byte of the index prefix, of every patch header and of patch internal IDs. */
export const QUILT_VERSION_V1 = 1;
/** Bytes before the BCS index: version u8 ‖ BCS length u32 LE. */
export const QUILT_INDEX_PREFIX_BYTES = 5;
/** Bytes of a patch header: version u8 ‖ length u32 LE ‖ mask u8. */
export const QUILT_PATCH_HEADER_BYTES = 6;
/** Mask bit 0 of a patch header: a tag map follows the identifier. */
export const HAS_TAGS_FLAG = 1;
/** The index occupies at most this many columns (Rust `MAX_NUM_COLUMNS_FOR_QUILT_INDEX`). */
export const MAX_INDEX_COLUMNS = 10;
/** Largest quilt symbol size (RS2: even and ≤ 65534). */
export const MAX_QUILT_SYMBOL_SIZE = 65534;

/** A malformed quilt: not a quilt at all, or a corrupted index or patch. Not retryable. */
export class QuiltFormatError extends TuskInputError {}

/** The matrix shape of a quilt for `nShards` shards. */
export interface QuiltGeometry {
  readonly nShards: number;
  /** R = n − 2f: rows, i.e. symbols per column. */
  readonly rows: number;
  /** C = n − f: columns. */
  readonly columns: number;
}

/** Rows and columns of a quilt for a committee of `nShards` shards (RS2 source symbol counts). */
export function quiltGeometry(nShards: number): QuiltGeometry {
  if (!Number.isInteger(nShards) || nShards < 4 || nShards > 65535)
    throw new TuskInputError(`a quilt needs 4…65535 shards, got ${nShards}`);
  const f = Math.floor((nShards - 1) / 3);
  return { nShards, rows: nShards - 2 * f, columns: nShards - f };
}

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** Rust's `String` order: compares the UTF-8 bytes (not JS's UTF-16 code units). */
export function compareUtf8(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/**
 * Rust's `validate_quilt_identifier` plus what its BCS framing implies: non-empty, valid Unicode,
 * no control characters (Cc: C0, DEL, C1), no trailing whitespace, and a BCS size (ULEB128
 * length + UTF-8 bytes) below 65535. Leading `_`, `-`, `.` and spaces are allowed, as in Rust.
 * @returns the identifier's UTF-8 bytes. @throws TuskInputError saying which rule failed.
 */
export function validateIdentifier(identifier: string): Uint8Array {
  if (typeof identifier !== 'string') throw new TuskInputError(`a quilt identifier must be a string, got ${typeof identifier}`);
  if (identifier.length === 0) throw new TuskInputError('a quilt identifier must not be empty');
  if (!isWellFormed(identifier))
    throw new TuskInputError(`quilt identifier ${JSON.stringify(identifier)} contains a lone UTF-16 surrogate (not valid Unicode)`);
  const bytes = utf8.encode(identifier);
  if (bytes.length > 65535) throw new TuskInputError(`quilt identifier is ${bytes.length} UTF-8 bytes; at most 65535 are allowed`);
  if (ulebLength(bytes.length) + bytes.length >= 65535)
    throw new TuskInputError(
      `quilt identifier is ${bytes.length} UTF-8 bytes; its BCS form must be under 65535 bytes (at most 65531 bytes)`,
    );
  if (/\p{White_Space}$/u.test(identifier)) throw new TuskInputError(`quilt identifier ${JSON.stringify(identifier)} ends with whitespace`);
  const control = /\p{Cc}/u.exec(identifier);
  if (control)
    throw new TuskInputError(
      `quilt identifier ${JSON.stringify(identifier)} contains the control character U+${control[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`,
    );
  return bytes;
}

/** True unless `s` holds a lone UTF-16 surrogate (which no Rust `String` can hold). */
export function isWellFormed(s: string): boolean {
  return !/\p{Surrogate}/u.test(s);
}

/** BCS of a string: ULEB128(byte length) ‖ UTF-8. */
export function bcsString(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(ulebLength(bytes.length) + bytes.length);
  out.set(bytes, writeUleb(out, 0, bytes.length));
  return out;
}

/**
 * BCS of a `BTreeMap<String, String>` as the Rust `bcs` crate writes it: ULEB128(count), then
 * (key, value) pairs sorted by the serialized key bytes.
 */
export function bcsTags(tags: Readonly<Record<string, string>>): Uint8Array {
  const entries = Object.entries(tags).map(([k, v]) => {
    if (typeof v !== 'string') throw new TuskInputError(`tag ${JSON.stringify(k)} must have a string value`);
    if (!isWellFormed(k) || !isWellFormed(v)) throw new TuskInputError(`tag ${JSON.stringify(k)} is not valid Unicode`);
    return { key: bcsString(utf8.encode(k)), value: bcsString(utf8.encode(v)) };
  });
  entries.sort((a, b) => compareUtf8(a.key, b.key));
  const parts = [uleb(entries.length), ...entries.flatMap((e) => [e.key, e.value])];
  return concat(parts);
}

/** One entry of the quilt index. Columns are `[startIndex, endIndex)`. */
export interface QuiltPatchInfo {
  readonly identifier: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly startIndex: number;
  readonly endIndex: number;
}

/** BCS of `QuiltIndexV1` (start indices are implied, not stored). */
export function encodeIndexBcs(patches: readonly { identifierBcs: Uint8Array; tagsBcs: Uint8Array; endIndex: number }[]): Uint8Array {
  const parts: Uint8Array[] = [uleb(patches.length)];
  for (const p of patches) {
    const end = new Uint8Array(2);
    new DataView(end.buffer).setUint16(0, p.endIndex, true);
    parts.push(end, p.identifierBcs, p.tagsBcs);
  }
  return concat(parts);
}

/**
 * Parses the quilt index from the bytes of its leading columns (column 0, 1, … concatenated; at
 * least the prefix and the BCS it announces).
 * @param columnBytes R·S, the bytes of one column.
 * @throws QuiltFormatError when the bytes are not a QuiltV1 index.
 */
export function decodeIndex(bytes: Uint8Array, columnBytes: number, columns: number): QuiltPatchInfo[] {
  const length = indexBcsLength(bytes, columnBytes);
  if (bytes.length < QUILT_INDEX_PREFIX_BYTES + length)
    throw new QuiltFormatError(`quilt index needs ${QUILT_INDEX_PREFIX_BYTES + length} bytes, got ${bytes.length}`);
  const bcs = bytes.subarray(QUILT_INDEX_PREFIX_BYTES, QUILT_INDEX_PREFIX_BYTES + length);
  try {
    let at = 0;
    const count = readUleb(bcs, at);
    at = count.next;
    if (count.value === 0) throw new QuiltFormatError('quilt index lists no patches');
    let start = Math.ceil((QUILT_INDEX_PREFIX_BYTES + length) / columnBytes);
    const out: QuiltPatchInfo[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < count.value; i++) {
      if (at + 2 > bcs.length) throw new QuiltFormatError('quilt index is truncated');
      const end = bcs[at] | (bcs[at + 1] << 8);
      at += 2;
      const id = readString(bcs, at);
      at = id.next;
      const tags = readTags(bcs, at);
      at = tags.next;
      if (end <= start || end > columns)
        throw new QuiltFormatError(`quilt index: patch ${i} spans columns [${start}, ${end}), outside [${start + 1}…${columns}]`);
      try {
        validateIdentifier(id.value);
      } catch (e) {
        throw new QuiltFormatError(`quilt index: ${(e as Error).message}`);
      }
      if (seen.has(id.value)) throw new QuiltFormatError(`quilt index lists identifier ${JSON.stringify(id.value)} twice`);
      seen.add(id.value);
      out.push({ identifier: id.value, tags: tags.value, startIndex: start, endIndex: end });
      start = end;
    }
    if (at !== bcs.length) throw new QuiltFormatError(`quilt index has ${bcs.length - at} trailing bytes`);
    return out;
  } catch (e) {
    if (e instanceof QuiltFormatError) throw e;
    throw new QuiltFormatError(`quilt index is not valid BCS: ${(e as Error).message}`);
  }
}

/**
 * The BCS length L announced by the index prefix in `bytes` (at least the first 5 bytes of column
 * 0), checked against the reader bound L ≤ 10·R·S − 5.
 * @throws QuiltFormatError when the version byte is not 1 or L is out of bounds.
 */
export function indexBcsLength(bytes: Uint8Array, columnBytes: number): number {
  if (bytes.length < QUILT_INDEX_PREFIX_BYTES) throw new QuiltFormatError('too short to hold a quilt index');
  if (bytes[0] !== QUILT_VERSION_V1)
    throw new QuiltFormatError(`not a QuiltV1 blob: the first byte is ${bytes[0]}, expected ${QUILT_VERSION_V1}`);
  const length = new DataView(bytes.buffer, bytes.byteOffset, 5).getUint32(1, true);
  if (length === 0 || length > MAX_INDEX_COLUMNS * columnBytes - QUILT_INDEX_PREFIX_BYTES) {
    throw new QuiltFormatError(
      `not a QuiltV1 blob: the index length ${length} is out of bounds (1…${MAX_INDEX_COLUMNS * columnBytes - QUILT_INDEX_PREFIX_BYTES})`,
    );
  }
  return length;
}

/** A patch as stored: the header's identifier and tags, and the data. */
export interface DecodedPatch {
  readonly identifier: string;
  readonly tags: Readonly<Record<string, string>>;
  /** A view into the caller's bytes. */
  readonly data: Uint8Array;
}

/**
 * Parses a patch from the bytes of its columns (concatenated in column order; trailing zero
 * padding allowed).
 * @throws QuiltFormatError on a bad version, a length beyond the columns, or bad BCS.
 */
export function decodePatch(bytes: Uint8Array): DecodedPatch {
  if (bytes.length < QUILT_PATCH_HEADER_BYTES + 2) throw new QuiltFormatError('quilt patch is too short for its header');
  if (bytes[0] !== QUILT_VERSION_V1) throw new QuiltFormatError(`quilt patch header has version ${bytes[0]}, expected ${QUILT_VERSION_V1}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const length = view.getUint32(1, true);
  const mask = bytes[5];
  const end = QUILT_PATCH_HEADER_BYTES + length;
  if (end > bytes.length)
    throw new QuiltFormatError(`quilt patch claims ${length} bytes but its columns hold ${bytes.length - QUILT_PATCH_HEADER_BYTES}`);
  try {
    let at = QUILT_PATCH_HEADER_BYTES;
    const idSize = view.getUint16(at, true);
    at += 2;
    const id = readString(bytes.subarray(0, at + idSize), at);
    if (id.next !== at + idSize) throw new QuiltFormatError('quilt patch identifier size does not match its BCS');
    at = id.next;
    let tags: Record<string, string> = {};
    if (mask & HAS_TAGS_FLAG) {
      const tagSize = view.getUint16(at, true);
      at += 2;
      const t = readTags(bytes.subarray(0, at + tagSize), at);
      if (t.next !== at + tagSize) throw new QuiltFormatError('quilt patch tag size does not match its BCS');
      tags = t.value;
      at = t.next;
    }
    if (at > end) throw new QuiltFormatError('quilt patch header is longer than the patch');
    return { identifier: id.value, tags, data: bytes.subarray(at, end) };
  } catch (e) {
    if (e instanceof QuiltFormatError) throw e;
    throw new QuiltFormatError(`quilt patch header is not valid: ${(e as Error).message}`);
  }
}

/** Column c of a quilt (row-major R × C × S matrix) as contiguous bytes. */
export function quiltColumn(quilt: Uint8Array, g: QuiltGeometry, symbolSize: number, c: number): Uint8Array {
  const out = new Uint8Array(g.rows * symbolSize);
  const rowBytes = g.columns * symbolSize;
  for (let r = 0; r < g.rows; r++)
    out.set(quilt.subarray(r * rowBytes + c * symbolSize, r * rowBytes + (c + 1) * symbolSize), r * symbolSize);
  return out;
}

function readString(buf: Uint8Array, offset: number): { value: string; next: number } {
  const { value: len, next } = readUleb(buf, offset);
  if (next + len > buf.length) throw new QuiltFormatError('BCS string runs past its bytes');
  let value: string;
  try {
    value = utf8Strict.decode(buf.subarray(next, next + len));
  } catch {
    throw new QuiltFormatError('BCS string is not valid UTF-8');
  }
  return { value, next: next + len };
}

function readTags(buf: Uint8Array, offset: number): { value: Record<string, string>; next: number } {
  const count = readUleb(buf, offset);
  let at = count.next;
  const value: Record<string, string> = Object.create(null);
  for (let i = 0; i < count.value; i++) {
    const k = readString(buf, at);
    const v = readString(buf, k.next);
    at = v.next;
    value[k.value] = v.value;
  }
  return { value: { ...value }, next: at };
}

function uleb(value: number): Uint8Array {
  const out = new Uint8Array(ulebLength(value));
  writeUleb(out, 0, value);
  return out;
}

/** Concatenates byte strings into a new array. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
