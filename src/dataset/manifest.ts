/**
 * The dataset manifest: the one module that writes and parses it. A manifest maps every file path
 * of a published directory to its size, SHA-256 and where its bytes live — one blob, one quilt
 * patch, an ordered list of chunk blobs (a file above the committee's maximum blob size), or
 * nothing (an empty file). It is stored as an ordinary blob; its blob ID is the dataset's ID.
 *
 * Wire form (version 1): UTF-8 JSON, keys in this order, files sorted by path in UTF-8 byte order
 * so the same dataset always serialises to the same bytes (and so the same manifest ID):
 *
 *   {"format":"tusk-dataset","version":1,"files":[
 *     {"path":"a/b.bin","size":3,"sha256":"<64 hex>","blob":"<blob id>"},
 *     {"path":"c.txt","size":2,"sha256":"…","patch":"<quilt patch id>"},
 *     {"path":"huge.tar","size":300,"sha256":"…","chunks":[{"blob":"<id>","size":200},{"blob":"<id>","size":100}]},
 *     {"path":"empty","size":0,"sha256":"e3b0…"}]}
 *
 * The parser is strict: unknown keys, a wrong format tag or version, a malformed path (absolute,
 * `.`/`..` segments, empty segments, backslashes, control characters), duplicate paths, malformed
 * IDs, and chunk sizes that do not add up to the file's size are each a `ManifestError` naming the
 * file and the rule.
 */
import { blobIdFromString, blobIdToString } from '../codec/blob-id.ts';
import { TuskInputError } from '../errors.ts';
import { parseQuiltPatchId } from '../quilt/patch-id.ts';

/** The `format` tag of every manifest. */
export const MANIFEST_FORMAT = 'tusk-dataset';
/** The manifest version this module writes and reads. */
export const MANIFEST_VERSION = 1;
/** Largest manifest accepted by the parser (bytes): a few million files. */
export const MAX_MANIFEST_BYTES = 1 << 30;

/** A manifest that does not parse or breaks a rule of the format. Not retryable. */
export class ManifestError extends TuskInputError {}

/** One chunk of a chunked file: a blob holding `size` consecutive bytes of the file. */
export interface ManifestChunk {
  readonly blob: string;
  readonly size: number;
}

/**
 * One file of a dataset. Its bytes live in exactly one of `blob`, `patch` or `chunks`; an empty
 * file has none of them.
 */
export interface ManifestFile {
  /** Relative path, `/`-separated, normalised (see `checkDatasetPath`). */
  readonly path: string;
  readonly size: number;
  /** SHA-256 of the file's bytes, lowercase hex. */
  readonly sha256: string;
  /** Blob ID of the blob holding the whole file. */
  readonly blob?: string;
  /** Quilt patch ID of the patch holding the file. */
  readonly patch?: string;
  /** The chunk blobs, in file order. */
  readonly chunks?: readonly ManifestChunk[];
}

/** A parsed manifest: files sorted by path (UTF-8 byte order), paths unique. */
export interface DatasetManifest {
  readonly version: number;
  readonly files: readonly ManifestFile[];
}

const utf8 = new TextEncoder();

/** Compares strings in UTF-8 byte order (the manifest's file order). */
export function compareUtf8Paths(a: string, b: string): number {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/**
 * Checks a dataset path: non-empty, relative, `/`-separated, no empty, `.` or `..` segment, no
 * backslash, no control character, well-formed Unicode, at most 4096 UTF-8 bytes.
 * @returns the path. @throws ManifestError naming the rule.
 */
export function checkDatasetPath(path: unknown): string {
  if (typeof path !== 'string' || path.length === 0)
    throw new ManifestError(`a file path must be a non-empty string, got ${JSON.stringify(path)}`);
  const show = JSON.stringify(path);
  if (/\p{Surrogate}/u.test(path)) throw new ManifestError(`path ${show} is not valid Unicode`);
  if (utf8.encode(path).length > 4096) throw new ManifestError(`path ${show} is longer than 4096 UTF-8 bytes`);
  if (path.startsWith('/')) throw new ManifestError(`path ${show} is absolute; dataset paths are relative`);
  if (path.includes('\\')) throw new ManifestError(`path ${show} contains a backslash; dataset paths use /`);
  if (/\p{Cc}/u.test(path)) throw new ManifestError(`path ${show} contains a control character`);
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.' || seg === '..') throw new ManifestError(`path ${show} has an empty, "." or ".." segment`);
  }
  return path;
}

function isSize(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function checkBlobId(v: unknown, where: string): string {
  if (typeof v !== 'string') throw new ManifestError(`${where}: blob ID must be a string`);
  try {
    return blobIdToString(blobIdFromString(v));
  } catch {
    throw new ManifestError(`${where}: ${JSON.stringify(v)} is not a blob ID`);
  }
}

function onlyKeys(o: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new ManifestError(`${where}: unknown key ${JSON.stringify(k)}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates one file entry (see the file header). @throws ManifestError. */
function checkFile(v: unknown, i: number): ManifestFile {
  if (!isObject(v)) throw new ManifestError(`files[${i}] is not an object`);
  const path = checkDatasetPath(v.path);
  const where = `file ${JSON.stringify(path)}`;
  onlyKeys(v, ['path', 'size', 'sha256', 'blob', 'patch', 'chunks'], where);
  if (!isSize(v.size)) throw new ManifestError(`${where}: size must be a non-negative integer`);
  if (typeof v.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(v.sha256))
    throw new ManifestError(`${where}: sha256 must be 64 lowercase hex digits`);
  const kinds = ['blob', 'patch', 'chunks'].filter((k) => k in v);
  if (kinds.length > 1) throw new ManifestError(`${where}: has both ${kinds.join(' and ')}; a file lives in exactly one place`);
  const base = { path, size: v.size, sha256: v.sha256 };
  if (kinds.length === 0) {
    if (v.size !== 0) throw new ManifestError(`${where}: a non-empty file needs a blob, patch or chunks`);
    return base;
  }
  if ('blob' in v) return { ...base, blob: checkBlobId(v.blob, where) };
  if ('patch' in v) {
    if (typeof v.patch !== 'string') throw new ManifestError(`${where}: patch must be a quilt patch ID string`);
    try {
      parseQuiltPatchId(v.patch);
    } catch (e) {
      throw new ManifestError(`${where}: ${JSON.stringify(v.patch)} is not a quilt patch ID (${(e as Error).message})`);
    }
    return { ...base, patch: v.patch };
  }
  if (!Array.isArray(v.chunks) || v.chunks.length === 0) throw new ManifestError(`${where}: chunks must be a non-empty array`);
  let total = 0;
  const chunks = v.chunks.map((c: unknown, j: number) => {
    const cw = `${where} chunk ${j}`;
    if (!isObject(c)) throw new ManifestError(`${cw} is not an object`);
    onlyKeys(c, ['blob', 'size'], cw);
    if (!isSize(c.size) || c.size === 0) throw new ManifestError(`${cw}: size must be a positive integer`);
    total += c.size;
    return { blob: checkBlobId(c.blob, cw), size: c.size };
  });
  if (total !== v.size) throw new ManifestError(`${where}: chunk sizes add up to ${total}, not the file's size ${v.size}`);
  return { ...base, chunks };
}

/**
 * Parses and validates manifest bytes.
 * @param bytes UTF-8 JSON (not retained).
 * @throws ManifestError for anything that is not a valid version-1 manifest.
 */
export function parseManifest(bytes: Uint8Array): DatasetManifest {
  if (!(bytes instanceof Uint8Array)) throw new ManifestError('a manifest must be bytes');
  if (bytes.length > MAX_MANIFEST_BYTES) throw new ManifestError(`manifest of ${bytes.length} bytes exceeds ${MAX_MANIFEST_BYTES}`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ManifestError('manifest is not valid UTF-8 (is this blob a dataset manifest?)');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ManifestError(`manifest is not JSON (is this blob a dataset manifest?): ${(e as Error).message}`);
  }
  if (!isObject(doc)) throw new ManifestError('manifest must be a JSON object');
  if (doc.format !== MANIFEST_FORMAT)
    throw new ManifestError(`not a dataset manifest: format is ${JSON.stringify(doc.format)}, expected "${MANIFEST_FORMAT}"`);
  if (doc.version !== MANIFEST_VERSION)
    throw new ManifestError(
      `manifest version ${JSON.stringify(doc.version)} is not supported (this Tusk reads version ${MANIFEST_VERSION})`,
    );
  onlyKeys(doc, ['format', 'version', 'files'], 'manifest');
  if (!Array.isArray(doc.files)) throw new ManifestError('manifest: files must be an array');
  const files = doc.files.map(checkFile);
  for (let i = 1; i < files.length; i++) {
    const c = compareUtf8Paths(files[i - 1].path, files[i].path);
    if (c === 0) throw new ManifestError(`manifest: path ${JSON.stringify(files[i].path)} appears twice`);
    if (c > 0)
      throw new ManifestError(
        `manifest: files are not sorted by path (${JSON.stringify(files[i].path)} after ${JSON.stringify(files[i - 1].path)})`,
      );
  }
  checkNoFileIsDirectory(files);
  return { version: MANIFEST_VERSION, files };
}

/** A path that is both a file and a directory (`a` and `a/b`) cannot be materialised. */
function checkNoFileIsDirectory(files: readonly ManifestFile[]): void {
  const paths = new Set(files.map((f) => f.path));
  for (const f of files) {
    const segs = f.path.split('/');
    for (let i = 1; i < segs.length; i++) {
      const dir = segs.slice(0, i).join('/');
      if (paths.has(dir))
        throw new ManifestError(`manifest: ${JSON.stringify(dir)} is a file and also a directory of ${JSON.stringify(f.path)}`);
    }
  }
}

/**
 * Serialises a manifest (validated first, so only parseable manifests are ever written).
 * @param files in any order; sorted here. @returns fresh UTF-8 bytes. @throws ManifestError.
 */
export function serializeManifest(files: readonly ManifestFile[]): Uint8Array {
  const sorted = [...files].sort((a, b) => compareUtf8Paths(a.path, b.path));
  const ordered = sorted.map((f) => {
    const o: Record<string, unknown> = { path: f.path, size: f.size, sha256: f.sha256 };
    if (f.blob !== undefined) o.blob = f.blob;
    else if (f.patch !== undefined) o.patch = f.patch;
    else if (f.chunks !== undefined) o.chunks = f.chunks.map((c) => ({ blob: c.blob, size: c.size }));
    return o;
  });
  const bytes = utf8.encode(JSON.stringify({ format: MANIFEST_FORMAT, version: MANIFEST_VERSION, files: ordered }));
  parseManifest(bytes);
  return bytes;
}

/** The entry for `path` (binary search; the files are sorted), or null. */
export function findFile(manifest: DatasetManifest, path: string): ManifestFile | null {
  let lo = 0;
  let hi = manifest.files.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = compareUtf8Paths(manifest.files[mid].path, path);
    if (c === 0) return manifest.files[mid];
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return null;
}

/** How a file is stored, for listings: `blob`, `patch`, `chunks` or `empty`. */
export function storageKind(f: ManifestFile): 'blob' | 'patch' | 'chunks' | 'empty' {
  return f.blob !== undefined ? 'blob' : f.patch !== undefined ? 'patch' : f.chunks !== undefined ? 'chunks' : 'empty';
}
