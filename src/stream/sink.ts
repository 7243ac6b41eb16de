/**
 * Where the streaming encoder delivers slivers: each sliver once, as soon as it is complete (in no
 * particular order), then the metadata, then `close`.
 */
import { lstat, mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { SliverData } from '../codec/sliver.ts';
import type { EncodedMetadata } from '../codec/encode.ts';
import { blobSummary, replaceDirectory } from '../spool/directory.ts';
import { TuskInputError } from '../errors.ts';

/**
 * Receives an encode's output. Buffer ownership: a sliver's bytes are only valid until the
 * returned promise settles (the encoder reuses its memory, a SharedArrayBuffer); copy what you
 * keep, and copy before passing them to APIs that reject shared memory (e.g. WebCrypto).
 */
export interface SliverSink {
  writeSliver(sliver: SliverData): Promise<void> | void;
  /** After every sliver: the blob ID and metadata. */
  writeMetadata(result: EncodedMetadata): Promise<void> | void;
  /** Last call: `ok` = the encode completed; otherwise it failed or was aborted (discard partial output). */
  close?(ok: boolean): Promise<void> | void;
}

/** A sink that calls `onSliver` (and optionally `onMetadata`) for each item. */
export function callbackSink(onSliver: (sliver: SliverData) => Promise<void> | void, onMetadata?: (result: EncodedMetadata) => Promise<void> | void): SliverSink {
  return { writeSliver: onSliver, writeMetadata: (r) => onMetadata?.(r) };
}

/** Options for {@link directorySink}. */
export interface DirectorySinkOptions {
  /** Replace an existing directory (default: refuse). */
  overwrite?: boolean;
}

/**
 * A sink that writes the `tusk encode` directory layout (src/spool/directory.ts). Files go to a
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
