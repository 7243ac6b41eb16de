/**
 * QuiltV1 construction, byte-identical to Walrus's `construct_quilt` (walrus-http.md §3.2–3.3):
 * sort the patches by identifier in UTF-8 byte order (Rust's `String` order), reject duplicates
 * and identifiers Rust would refuse, find the smallest even symbol size S that fits the index and
 * every patch into the C columns, place each patch column-major from a fresh column after the
 * index, then write the prefixed BCS index from column 0.
 *
 * The result is an ordinary blob of R·C·S bytes: its blob ID is the quilt ID.
 */
import { TuskInputError } from '../errors.ts';
import {
  HAS_TAGS_FLAG,
  MAX_INDEX_COLUMNS,
  MAX_QUILT_SYMBOL_SIZE,
  QUILT_INDEX_PREFIX_BYTES,
  QUILT_PATCH_HEADER_BYTES,
  QUILT_VERSION_V1,
  bcsString,
  bcsTags,
  compareUtf8,
  encodeIndexBcs,
  quiltGeometry,
  validateIdentifier,
  type QuiltGeometry,
  type QuiltPatchInfo,
} from './format.ts';

/** One file to put in a quilt. */
export interface QuiltBlobInput {
  /** The patch's bytes (read, never kept after `encodeQuilt` returns). */
  readonly contents: Uint8Array;
  /** Unique name of the patch within the quilt (Rust's identifier rules, see `validateIdentifier`). */
  readonly identifier: string;
  /** Optional string tags, stored in the patch header and in the index. */
  readonly tags?: Readonly<Record<string, string>>;
}

/** Options of `encodeQuilt`. */
export interface EncodeQuiltOptions {
  /** Shards of the committee the quilt is for: fixes its rows and columns. */
  readonly nShards: number;
}

/** A built quilt. */
export interface EncodedQuilt extends QuiltGeometry {
  /** The R·C·S quilt bytes (new, owned by the caller). */
  readonly quilt: Uint8Array;
  readonly symbolSize: number;
  /** Columns taken by the index (the first patch starts here). */
  readonly indexColumns: number;
  /** The patches in index order (sorted identifiers). */
  readonly patches: readonly QuiltPatchInfo[];
}

/** A quilt the committee cannot hold: too many patches, or a symbol size above 65534. */
export class QuiltTooLargeError extends TuskInputError {}

/**
 * Builds the QuiltV1 bytes of `blobs` for a committee of `options.nShards` shards.
 * @throws TuskInputError for an empty quilt, an invalid or duplicate identifier, oversize tags;
 *   QuiltTooLargeError when the patches do not fit the committee's columns.
 */
export function encodeQuilt(blobs: readonly QuiltBlobInput[], options: EncodeQuiltOptions): EncodedQuilt {
  const g = quiltGeometry(options.nShards);
  if (!Array.isArray(blobs) || blobs.length === 0) throw new TuskInputError('a quilt needs at least one patch');
  const prepared = blobs.map((b, i) => {
    if (!(b?.contents instanceof Uint8Array))
      throw new TuskInputError(`quilt patch ${i} (${JSON.stringify(b?.identifier)}) has no byte contents`);
    const idBytes = validateIdentifier(b.identifier);
    const identifierBcs = bcsString(idBytes);
    const tags = b.tags ?? {};
    const tagsBcs = bcsTags(tags);
    const hasTags = Object.keys(tags).length > 0;
    if (hasTags && tagsBcs.length > 0xffff)
      throw new TuskInputError(
        `tags of quilt patch ${JSON.stringify(b.identifier)} take ${tagsBcs.length} bytes; at most 65535 are allowed`,
      );
    // Header length: identifier section + optional tag section + data.
    const length = 2 + identifierBcs.length + (hasTags ? 2 + tagsBcs.length : 0) + b.contents.length;
    if (length > 0xffffffff)
      throw new QuiltTooLargeError(`quilt patch ${JSON.stringify(b.identifier)} is too large (${b.contents.length} bytes)`);
    return { input: b, idBytes, identifierBcs, tags, tagsBcs, hasTags, length, size: QUILT_PATCH_HEADER_BYTES + length, endIndex: 0 };
  });
  prepared.sort((a, b) => compareUtf8(a.idBytes, b.idBytes));
  for (let i = 1; i < prepared.length; i++) {
    if (compareUtf8(prepared[i - 1].idBytes, prepared[i].idBytes) === 0)
      throw new TuskInputError(`duplicate quilt identifier ${JSON.stringify(prepared[i].input.identifier)}`);
  }
  // The index's size does not depend on the column numbers it records (u16 each).
  const indexBcsLength = encodeIndexBcs(prepared).length;
  const indexTotal = QUILT_INDEX_PREFIX_BYTES + indexBcsLength;
  const S = quiltSymbolSize([indexTotal, ...prepared.map((p) => p.size)], g.columns, g.rows, MAX_INDEX_COLUMNS);
  const columnBytes = g.rows * S;
  const quilt = new Uint8Array(g.rows * g.columns * S);

  const indexColumns = Math.ceil(indexTotal / columnBytes);
  let column = indexColumns;
  const patches: QuiltPatchInfo[] = [];
  for (const p of prepared) {
    const header = new Uint8Array(QUILT_PATCH_HEADER_BYTES + 2);
    const view = new DataView(header.buffer);
    header[0] = QUILT_VERSION_V1;
    view.setUint32(1, p.length, true);
    header[5] = p.hasTags ? HAS_TAGS_FLAG : 0;
    view.setUint16(6, p.identifierBcs.length, true);
    const parts = [header, p.identifierBcs];
    if (p.hasTags) parts.push(u16(p.tagsBcs.length), p.tagsBcs);
    parts.push(p.input.contents);
    const end = column + Math.ceil(p.size / columnBytes);
    writeColumnMajor(quilt, g, S, column, parts);
    p.endIndex = end;
    patches.push({ identifier: p.input.identifier, tags: { ...p.tags }, startIndex: column, endIndex: end });
    column = end;
  }
  if (column > g.columns) throw new Error(`quilt layout overflow: ${column} columns of ${g.columns}`); // the symbol-size search guarantees the fit
  const indexBcs = encodeIndexBcs(prepared);
  const prefix = new Uint8Array(QUILT_INDEX_PREFIX_BYTES);
  prefix[0] = QUILT_VERSION_V1;
  new DataView(prefix.buffer).setUint32(1, indexBcs.length, true);
  writeColumnMajor(quilt, g, S, 0, [prefix, indexBcs]);
  return { ...g, quilt, symbolSize: S, indexColumns, patches };
}

/**
 * Rust's `compute_symbol_size`: the smallest even symbol size with which every size in `sizes`
 * (the index first), each starting at a fresh column, fits into `columns` columns of `rows`
 * symbols, with the index in at most `maxIndexColumns` columns.
 * @throws QuiltTooLargeError when there are more sizes than columns or S would exceed 65534.
 */
export function quiltSymbolSize(sizes: readonly number[], columns: number, rows: number, maxIndexColumns = MAX_INDEX_COLUMNS): number {
  if (sizes.length === 0) throw new TuskInputError('a quilt needs at least one patch');
  if (sizes.length > columns) {
    throw new QuiltTooLargeError(
      `a quilt for this committee holds at most ${columns - 1} patches (${columns} columns, one at least for the index); got ${sizes.length - 1}`,
    );
  }
  const total = sizes.reduce((s, x) => s + x, 0);
  const max = sizes.reduce((m, x) => Math.max(m, x), 0);
  let lo = Math.max(Math.ceil(total / (columns * rows)), Math.ceil(sizes[0] / (rows * maxIndexColumns)), Math.ceil(5 / rows));
  let hi = Math.ceil(max / (Math.floor(columns / sizes.length) * rows));
  const fits = (s: number) => {
    let used = 0;
    for (const x of sizes) used += Math.ceil(x / (s * rows));
    return used <= columns;
  };
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(mid)) hi = mid;
    else lo = mid + 1;
  }
  const S = lo + (lo % 2);
  if (S > MAX_QUILT_SYMBOL_SIZE) {
    throw new QuiltTooLargeError(
      `the quilt is too large for a committee of this size: it would need symbol size ${S} (at most ${MAX_QUILT_SYMBOL_SIZE}); store fewer or smaller files per quilt`,
    );
  }
  return S;
}

/** Writes the concatenation of `parts` column-major from column `c0` (column c0 top to bottom, then c0+1, …). */
function writeColumnMajor(quilt: Uint8Array, g: QuiltGeometry, S: number, c0: number, parts: readonly Uint8Array[]): void {
  const rowBytes = g.columns * S;
  let k = 0; // byte position in the string
  for (const part of parts) {
    let at = 0;
    while (at < part.length) {
      const col = c0 + Math.floor(k / (g.rows * S));
      const row = Math.floor(k / S) % g.rows;
      const off = k % S;
      const n = Math.min(S - off, part.length - at);
      quilt.set(part.subarray(at, at + n), row * rowBytes + col * S + off);
      at += n;
      k += n;
    }
  }
}

function u16(v: number): Uint8Array {
  return new Uint8Array([v & 0xff, v >> 8]);
}
