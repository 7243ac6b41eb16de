/**
 * The sliver directory layout written by `tusk encode` and read by `tusk decode`:
 *
 *   <dir>/blob.json          {"blobId","rootHash","unencodedLength","encodingType","symbolSize","nShards"}
 *   <dir>/metadata.bcs       BlobMetadataWithId BCS (blob ID ‖ BlobMetadata)
 *   <dir>/primary/<i>.bcs    SliverData BCS of primary sliver i   (i = 0 … n−1)
 *   <dir>/secondary/<j>.bcs  SliverData BCS of secondary sliver j (j = 0 … n−1)
 *
 * Sliver pair i (what the node holding that pair's shard stores) is primary/<i>.bcs with
 * secondary/<n−1−i>.bcs. Any subset of sliver files may be deleted; decoding needs k_p primary or
 * k_s secondary slivers. Writing is atomic: the directory appears complete or not at all.
 */
import { lstat, mkdir, readdir, readFile, rename, rm, rmdir, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BlobMetadataWithId } from '../codec/metadata.ts';
import { SliverData, type SliverAxis } from '../codec/sliver.ts';
import type { EncodedBlob } from '../codec/encode.ts';
import type { EncodingName } from '../codec/encodings/index.ts';
import { TuskInputError } from '../errors.ts';
import type { InPlaceSliverSink } from './sink.ts';

/** The human-readable summary written as blob.json (also what `--json` prints). */
export interface BlobSummary {
  blobId: string;
  rootHash: string;
  unencodedLength: number;
  encodingType: EncodingName;
  symbolSize: number;
  nShards: number;
}

/** Summary of an encoding, with the root hash in hex. */
export function blobSummary(
  blob: Pick<EncodedBlob, 'blobIdString' | 'rootHash' | 'unencodedLength' | 'symbolSize' | 'nShards' | 'encoding'>,
): BlobSummary {
  return {
    blobId: blob.blobIdString,
    rootHash: Buffer.from(blob.rootHash).toString('hex'),
    unencodedLength: blob.unencodedLength,
    encodingType: blob.encoding,
    symbolSize: blob.symbolSize,
    nShards: blob.nShards,
  };
}

/** Options for {@link directorySink}. */
export interface DirectorySinkOptions {
  /**
   * Replace an existing sliver directory (default: refuse). Only a directory holding nothing but
   * this layout is ever replaced (see {@link assertSliverDirectoryLayout}): `--out ~ --force` must
   * not delete a home directory.
   */
  overwrite?: boolean;
}

/** The top-level entries of the layout: files, then sliver folders. */
const LAYOUT_FILES = ['blob.json', 'metadata.bcs'];
const LAYOUT_FOLDERS = ['primary', 'secondary'];
const SLIVER_FILE = /^\d+\.bcs$/;

/**
 * Checks that `dir` holds nothing but the sliver-directory layout (any subset of it, or nothing):
 * blob.json, metadata.bcs, primary/ and secondary/ holding only `<i>.bcs` files. That is what a
 * replacement may delete. @throws TuskInputError naming the first entry that does not belong,
 * or when `dir` is not a directory (a symbolic link included).
 */
export async function assertSliverDirectoryLayout(dir: string): Promise<void> {
  const refuse = (why: string) =>
    new TuskInputError(`output directory ${dir} is not a sliver directory (${why}); refusing to replace it — choose another --out`);
  const st = await lstat(dir);
  if (st.isSymbolicLink()) throw refuse('it is a symbolic link');
  if (!st.isDirectory()) throw refuse('it is not a directory');
  for (const name of await readdir(dir)) {
    const e = await lstat(join(dir, name));
    if (LAYOUT_FILES.includes(name)) {
      if (!e.isFile()) throw refuse(`${name} is not a regular file`);
    } else if (LAYOUT_FOLDERS.includes(name)) {
      if (!e.isDirectory()) throw refuse(`${name} is not a directory`);
      for (const f of await readdir(join(dir, name))) {
        if (!SLIVER_FILE.test(f) || !(await lstat(join(dir, name, f))).isFile()) throw refuse(`it holds ${join(name, f)}`);
      }
    } else {
      throw refuse(`it holds ${name}`);
    }
  }
}

/**
 * Deletes a sliver directory entry by entry — only layout files, then the emptied folders (never a
 * recursive delete): anything that appeared since it was checked stays. Resolves to whether the
 * folder is gone.
 */
async function removeSliverDirectory(dir: string): Promise<boolean> {
  const ignore = (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : Promise.reject(e));
  for (const folder of LAYOUT_FOLDERS) {
    const names = await readdir(join(dir, folder)).catch(() => [] as string[]);
    for (const f of names) if (SLIVER_FILE.test(f)) await unlink(join(dir, folder, f)).catch(ignore);
    await rmdir(join(dir, folder)).catch(ignore);
  }
  for (const f of LAYOUT_FILES) await unlink(join(dir, f)).catch(ignore);
  return rmdir(dir).then(
    () => true,
    (e) => (e.code === 'ENOENT' ? true : e.code === 'ENOTEMPTY' ? false : Promise.reject(e)),
  );
}

/**
 * A sink that writes the `tusk encode` directory layout (above). Files go to a
 * hidden temporary sibling that is renamed into place on success and removed on failure, so the
 * target directory never holds a half-written encoding.
 */
export async function directorySink(dir: string, options: DirectorySinkOptions = {}): Promise<InPlaceSliverSink> {
  const exists = await lstat(dir).then(
    () => true,
    (e) => (e.code === 'ENOENT' ? false : Promise.reject(e)),
  );
  if (exists && !options.overwrite) throw new TuskInputError(`output directory ${dir} already exists (use --force to replace it)`);
  // Checked now (before any work) and again just before the replacement.
  if (exists) await assertSliverDirectoryLayout(dir);
  await mkdir(dirname(dir), { recursive: true });
  const tmp = join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}-${Date.now()}`);
  await mkdir(join(tmp, 'primary'), { recursive: true });
  await mkdir(join(tmp, 'secondary'), { recursive: true });
  return {
    writeSliver: (s) => writeFile(join(tmp, s.axis, `${s.index}.bcs`), s.toBcs()),
    // The streaming encoder writes slivers into these files in place (see InPlaceSliverSink).
    sliverFile: (axis, index) => join(tmp, axis, `${index}.bcs`),
    async writeMetadata(result) {
      await writeFile(join(tmp, 'metadata.bcs'), result.metadataWithId.toBcs());
      await writeFile(join(tmp, 'blob.json'), JSON.stringify(blobSummary(result), null, 2) + '\n');
    },
    async close(ok) {
      if (!ok) {
        await rm(tmp, { recursive: true, force: true });
        return;
      }
      await replaceDirectory(tmp, dir);
    },
  };
}

/** Options for {@link writeSliverDirectory}. */
export type WriteSliverDirectoryOptions = DirectorySinkOptions;

/**
 * Writes an encoded blob to `dir` in the layout above, atomically (through {@link directorySink}:
 * an interrupted write leaves `dir` untouched). @throws TuskInputError if `dir` exists and
 * `overwrite` is not set.
 */
export async function writeSliverDirectory(dir: string, blob: EncodedBlob, options: WriteSliverDirectoryOptions = {}): Promise<void> {
  const sink = await directorySink(dir, options);
  try {
    const jobs: (Promise<void> | void)[] = [];
    for (const s of [...blob.primarySlivers, ...blob.secondarySlivers]) {
      jobs.push(sink.writeSliver(s));
      if (jobs.length >= 64) await Promise.all(jobs.splice(0));
    }
    await Promise.all(jobs);
    await sink.writeMetadata(blob);
  } catch (e) {
    await sink.close?.(false);
    throw e;
  }
  await sink.close?.(true);
}

/**
 * Moves the finished directory `tmp` to `dir`. An existing `dir` must hold nothing but the sliver
 * layout; it is first renamed aside and only removed (file by file) once the new one is in place,
 * so a crash never leaves neither. @throws TuskInputError if `dir` holds anything else (then `tmp`
 * is removed and `dir` untouched).
 */
export async function replaceDirectory(tmp: string, dir: string): Promise<void> {
  const exists = await lstat(dir).then(
    () => true,
    (e) => (e.code === 'ENOENT' ? false : Promise.reject(e)),
  );
  if (exists) {
    try {
      await assertSliverDirectoryLayout(dir);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
  }
  const old = join(dirname(dir), `.${basename(dir)}.old-${process.pid}-${Date.now()}`);
  const hadOld =
    exists &&
    (await rename(dir, old).then(
      () => true,
      (e) => (e.code === 'ENOENT' ? false : Promise.reject(e)),
    ));
  await rename(tmp, dir);
  if (hadOld && !(await removeSliverDirectory(old))) {
    process.emitWarning(`${old} kept: files appeared in it while it was being replaced`);
  }
}

/** What {@link readSliverDirectory} found. */
export interface SliverDirectory {
  metadata: BlobMetadataWithId;
  slivers: SliverData[];
  /** Files that could not be parsed (they are skipped). */
  unreadable: { file: string; reason: string }[];
}

/** Reads a sliver directory's metadata.bcs. @throws TuskInputError if it is missing or malformed. */
export async function readDirectoryMetadata(dir: string): Promise<BlobMetadataWithId> {
  let metaBytes: Buffer;
  try {
    metaBytes = await readFile(join(dir, 'metadata.bcs'));
  } catch (e) {
    throw new TuskInputError(`${dir} is not a sliver directory: cannot read metadata.bcs (${(e as Error).message})`);
  }
  return BlobMetadataWithId.fromBcs(new Uint8Array(metaBytes));
}

/** Reads metadata and every parsable sliver file present in `dir` (whole slivers in memory). */
export async function readSliverDirectory(dir: string): Promise<SliverDirectory> {
  const metadata = await readDirectoryMetadata(dir);
  const slivers: SliverData[] = [];
  const unreadable: { file: string; reason: string }[] = [];
  for (const axis of ['primary', 'secondary'] as SliverAxis[]) {
    let names: string[] = [];
    try {
      names = await readdir(join(dir, axis));
    } catch {
      continue; // a missing axis folder just means no slivers of that axis
    }
    for (const name of names.sort()) {
      const file = join(dir, axis, name);
      const m = /^(\d+)\.bcs$/.exec(name);
      if (!m) {
        unreadable.push({ file, reason: 'not a <index>.bcs file' });
        continue;
      }
      try {
        const s = SliverData.fromBcs(axis, new Uint8Array(await readFile(file)));
        if (s.index !== Number(m[1])) throw new TuskInputError(`file name says index ${m[1]} but the sliver says ${s.index}`);
        slivers.push(s);
      } catch (e) {
        unreadable.push({ file, reason: (e as Error).message });
      }
    }
  }
  return { metadata, slivers, unreadable };
}
