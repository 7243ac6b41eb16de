/**
 * Byte ranges: parsing `Range` / `If-Range` (RFC 9110 §14, single ranges: `bytes=a-b`, `a-`, `-n`,
 * end clamped to the size, 416 only when unsatisfiable) and `If-None-Match`. The
 * ranges themselves are produced by `BlobReader` (src/client/blob-reader.ts), re-exported here.
 */
import type { ByteRange } from '../client/blob-reader.ts';

export { BlobReader, type BlobLayout, type BlobReaderOptions, type ByteRange } from '../client/blob-reader.ts';

/**
 * Interprets a `Range` header for a representation of `size` bytes (RFC 9110 §14.1.2, single
 * range). Returns the range, `'unsatisfiable'` (→ 416), or null when the header is absent, not a
 * byte range, malformed or multi-range — RFC 9110 lets a server ignore those and send 200.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | null {
  if (header === undefined) return null;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const n = Number(m[2]); // suffix: the last n bytes
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const last = m[2] === '' ? Infinity : Number(m[2]);
  if (last < start) return null; // invalid range-spec: ignore the header
  if (start >= size) return 'unsatisfiable';
  return { start, end: Math.min(last, size - 1) };
}

/**
 * Whether a range request may be honoured under `If-Range` (RFC 9110 §13.1.5): absent → yes; an
 * entity tag must match `etag` exactly (strong comparison); a date never matches (we send no
 * Last-Modified), so the full representation is sent.
 */
export function ifRangeAllows(ifRange: string | undefined, etag: string): boolean {
  if (ifRange === undefined) return true;
  const v = ifRange.trim();
  if (v.startsWith('W/')) return false;
  return unquote(v) === etag;
}

/** Whether `If-None-Match` matches `etag` (weak comparison, `*` matches anything). */
export function ifNoneMatchMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((t) => {
    const v = t.trim();
    return v === '*' || unquote(v.replace(/^W\//, '')) === etag;
  });
}

function unquote(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}
