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
import { lstat, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BlobMetadataWithId } from '../codec/metadata.ts';
import { SliverData, type SliverAxis } from '../codec/sliver.ts';
import type { EncodedBlob } from '../codec/encode.ts';
import type { EncodingName } from '../codec/encodings/index.ts';
import { TuskInputError } from '../errors.ts';
import type { SliverSink } from './sink.ts';

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
export function blobSummary(blob: Pick<EncodedBlob, 'blobIdString' | 'rootHash' | 'unencodedLength' | 'symbolSize' | 'nShards' | 'encoding'>): BlobSummary {
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
  /** Replace an existing directory (default: refuse). */
  overwrite?: boolean;
}

/**
 * A sink that writes the `tusk encode` directory layout (above). Files go to a
 * hidden temporary sibling that is renamed into place on success and removed on failure, so the
 * target directory never holds a half-written encoding.
 */
export async function directorySink(dir: string, options: DirectorySinkOptions = {}): Promise<SliverSink> {
  const exists = await lstat(dir).then(() => true, (e) => (e.code === 'ENOENT' ? false : Promise.reject(e)));
  if (exists && !options.overwrite) throw new TuskInputError(`output directory ${dir} already exists (use --force to replace it)`);
  await mkdir(dirname(dir), { recursive: true });
  const tmp = join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}-${Date.now()}`);
  await mkdir(join(tmp, 'primary'), { recursive: true });
  await mkdir(join(tmp, 'secondary'), { recursive: true });
  return {
    writeSliver: (s) => writeFile(join(tmp, s.axis, `${s.index}.bcs`), s.toBcs()),
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
 * Moves the finished directory `tmp` to `dir`. An existing `dir` is first renamed aside and only
 * removed once the new one is in place, so a crash never leaves neither.
 */
export async function replaceDirectory(tmp: string, dir: string): Promise<void> {
  const old = join(dirname(dir), `.${basename(dir)}.old-${process.pid}-${Date.now()}`);
  const hadOld = await rename(dir, old).then(() => true, (e) => (e.code === 'ENOENT' ? false : Promise.reject(e)));
  await rename(tmp, dir);
  if (hadOld) await rm(old, { recursive: true, force: true });
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
