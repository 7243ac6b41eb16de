/**
 * The quilt commands of `tusk`, as Walrus's CLI has them: `store-quilt` (files or directories by
 * `--paths`, or `--blobs` JSON with identifiers and tags), `read-quilt` (patches by identifier or
 * by patch ID, to stdout or `--out <dir>/<identifier>`), `list-patches-in-quilt`. Output contract
 * as in the other client commands: results on stdout (one JSON object under --json), errors on
 * stderr. `store-quilt --json` prints Walrus's QuiltStoreResult (`blobStoreResult`,
 * `storedQuiltBlobs`).
 */
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { basename, join, resolve, sep } from 'node:path';
import { RemoteChain } from '../chain/remote/client.ts';
import { EncodingConfig } from '../codec/config.ts';
import { defaultConfigPath, loadClientConfig, loadWallet } from '../client/client-config.ts';
import type { StoreProgress } from '../client/store-blob.ts';
import { TuskInputError } from '../errors.ts';
import type { QuiltBlobInput } from '../quilt/quilt-encode.ts';
import { QuiltReader, quiltStoreResultJson, storeQuilt, type QuiltPatch } from '../quilt/client.ts';
import { parseQuiltPatchId } from '../quilt/patch-id.ts';
import { blobIdToString } from '../codec/blob-id.ts';
import { bar, intOption, onePositional, parseArgsKeepingIds, print, progressLine, shieldDashIds } from './common.ts';

/** Usage text of the quilt commands (main.ts appends it to its own). */
export const QUILT_USAGE = `Quilts (many small files in one blob, byte-identical to Walrus's QuiltV1):
  store-quilt --paths <files|dirs…> --epochs N      Store files as one quilt (identifier = file name;
                                        directories are read recursively).
  store-quilt --blobs <json…> --epochs N            Each JSON: {"path":"…","identifier":"…","tags":{…}}
                                        (identifier defaults to the file name). Also --permanent|--deletable.
  read-quilt --quilt-id <id> --identifiers <id…> [--out <dir>]
  read-quilt --quilt-patch-ids <patch id…> [--out <dir>]
                                        Read patches (only their columns are fetched); --out writes
                                        <dir>/<identifier>, else one patch goes to stdout.
  list-patches-in-quilt <quilt id>      Identifiers, patch IDs and tags in index order.
`;

/** The commands this module runs. */
export const QUILT_COMMANDS: ReadonlySet<string> = new Set(['store-quilt', 'read-quilt', 'list-patches-in-quilt']);

const OPTIONS = {
  config: { type: 'string' },
  json: { type: 'boolean', default: false },
  epochs: { type: 'string' },
  permanent: { type: 'boolean', default: false },
  deletable: { type: 'boolean', default: false },
  out: { type: 'string' },
  force: { type: 'boolean', default: false },
  paths: { type: 'string', multiple: true },
  blobs: { type: 'string', multiple: true },
  'quilt-id': { type: 'string' },
  identifiers: { type: 'string', multiple: true },
  'quilt-patch-ids': { type: 'string', multiple: true },
} as const;

/** Options that take several values, Walrus-style: `--paths a b c` (until the next option). */
const MULTI = new Set(['--paths', '--blobs', '--identifiers', '--quilt-patch-ids']);

/** Rewrites `--paths a b --epochs 1` into `--paths a --paths b --epochs 1` for parseArgs. */
export function expandMultiValued(argv: readonly string[]): string[] {
  const out: string[] = [];
  let current: string | null = null;
  for (const a of argv) {
    if (a.startsWith('--')) {
      const [flag, inline] = a.split(/=(.*)/s, 2);
      current = MULTI.has(flag) ? flag : null;
      if (current && inline !== undefined) out.push(current, inline);
      else if (!current) out.push(a);
      continue;
    }
    if (current) out.push(current, a);
    else out.push(a);
  }
  return out;
}

/** Runs one quilt command; resolves to the exit code. */
export async function quiltCommand(
  command: string,
  argv: string[],
  usageError: (m: string) => Error,
  signal?: AbortSignal,
): Promise<number> {
  // IDs are shielded before the multi-value expansion too: it treats any token starting with '--' as an option.
  const { values, positionals } = parseArgsKeepingIds({
    args: expandMultiValued(shieldDashIds(argv)),
    allowPositionals: true,
    options: OPTIONS,
  });
  // The config is read only once the arguments are known to be usable (usage errors first).
  const connect = async () => {
    const config = await loadClientConfig(values.config ?? defaultConfigPath());
    return { config, chain: new RemoteChain({ url: config.chainUrl }) };
  };
  switch (command) {
    case 'store-quilt': {
      if (positionals.length > 0)
        throw usageError(`store-quilt takes its files with --paths or --blobs, not as ${JSON.stringify(positionals[0])}`);
      if (!values.paths === !values.blobs) throw usageError('store-quilt needs exactly one of --paths <files|dirs…> and --blobs <json…>');
      if (values.permanent && values.deletable) throw usageError('choose one of --permanent and --deletable');
      if (values.epochs === undefined) throw usageError('--epochs is required');
      const epochs = intOption(values.epochs, 'epochs', 1, 2 ** 32 - 1)!;
      const blobs = values.paths ? await blobsFromPaths(values.paths) : await blobsFromJson(values.blobs!);
      const { config, chain } = await connect();
      const wallet = await loadWallet(config.wallet);
      const p = progressLine(!values.json);
      const onProgress = (e: StoreProgress) => {
        if (e.phase === 'upload' && e.sliversTotal) p.show(`quilt of ${blobs.length}: upload ${bar(e.sliversStored ?? 0, e.sliversTotal)}`);
        else p.show(`quilt of ${blobs.length}: ${e.phase}…`, true);
      };
      try {
        const r = await storeQuilt(blobs, { chain, signer: wallet, epochs, deletable: !values.permanent, signal, onProgress });
        const timer = setTimeout(r.blobStoreResult.cancelBackground, 60_000);
        await r.blobStoreResult.background;
        clearTimeout(timer);
        p.clear();
        const blob = await chain.getBlob(r.blobStoreResult.blobObjectId);
        if (!blob) throw new TuskInputError(`the quilt's Blob object ${r.blobStoreResult.blobObjectId} is not on chain`);
        const encodedLength = new EncodingConfig(r.nShards).encodedBlobLength(r.blobStoreResult.unencodedLength);
        const json = quiltStoreResultJson(r, blob, encodedLength, epochs);
        print(
          values.json,
          json,
          [
            `quilt ID:   ${r.quiltId}`,
            `object ID:  ${r.blobStoreResult.blobObjectId}`,
            `size:       ${r.blobStoreResult.unencodedLength} bytes (${blobs.length} patches, symbol size ${r.symbolSize})`,
            `end epoch:  ${r.blobStoreResult.endEpoch}${r.blobStoreResult.deletable ? ' (deletable)' : ' (permanent)'}`,
            ...r.storedQuiltBlobs.map((s) => `  ${s.quiltPatchId}  [${s.range[0]}, ${s.range[1]})  ${s.identifier}`),
          ].join('\n'),
        );
      } finally {
        p.clear();
      }
      return 0;
    }
    case 'read-quilt': {
      if (positionals.length > 0) throw usageError(`read-quilt takes no positional arguments (got ${JSON.stringify(positionals[0])})`);
      const byId = values.identifiers;
      const byPatch = values['quilt-patch-ids'];
      if (!byId === !byPatch)
        throw usageError('read-quilt needs exactly one of --identifiers <…> (with --quilt-id) and --quilt-patch-ids <…>');
      if (byId && !values['quilt-id']) throw usageError('--identifiers needs --quilt-id <id>');
      const count = (byId ?? byPatch)!.length;
      if (count > 1 && !values.out && !values.json) throw usageError('reading several patches needs --out <dir> (or --json)');
      const parsedIds = (byPatch ?? []).map((pid) => ({ pid, parsed: parseQuiltPatchId(pid) }));
      const { chain } = await connect();
      const options = { chain, signal };
      const patches: QuiltPatch[] = [];
      if (byId) {
        const reader = await QuiltReader.open(values['quilt-id']!, options);
        for (const id of byId) patches.push(await reader.readPatch(id));
      } else {
        const readers = new Map<string, QuiltReader>();
        for (const { pid, parsed } of parsedIds) {
          const qid = blobIdToString(parsed.quiltId);
          if (values['quilt-id'] && values['quilt-id'] !== qid)
            throw new TuskInputError(`patch ID ${pid} belongs to quilt ${qid}, not ${values['quilt-id']}`);
          if (!readers.has(qid)) readers.set(qid, await QuiltReader.open(parsed.quiltId, options));
          patches.push(await readers.get(qid)!.readPatchAt(parsed.startIndex, parsed.endIndex));
        }
      }
      if (values.out) {
        const dir = resolve(values.out);
        await mkdir(dir, { recursive: true });
        const written: Record<string, unknown>[] = [];
        for (const p of patches) {
          const file = patchFile(dir, p.identifier);
          if (
            !values.force &&
            (await stat(file).then(
              () => true,
              () => false,
            ))
          )
            throw new TuskInputError(`${file} already exists (use --force to replace it)`);
          await writeFile(file, p.data);
          written.push({ identifier: p.identifier, quiltPatchId: p.quiltPatchId, tags: p.tags, size: p.data.length, path: file });
        }
        print(values.json, { patches: written }, written.map((w) => `${w.size} bytes → ${w.path}`).join('\n'));
      } else if (values.json) {
        print(
          true,
          {
            patches: patches.map((p) => ({
              identifier: p.identifier,
              quiltPatchId: p.quiltPatchId,
              tags: p.tags,
              size: p.data.length,
              base64: Buffer.from(p.data).toString('base64'),
            })),
          },
          '',
        );
      } else {
        await new Promise<void>((res, rej) => process.stdout.write(patches[0].data, (e) => (e ? rej(e) : res())));
      }
      return 0;
    }
    case 'list-patches-in-quilt': {
      const quiltId = onePositional(positionals, 'quilt ID', 'list-patches-in-quilt', usageError);
      const { chain } = await connect();
      const reader = await QuiltReader.open(quiltId, { chain, signal });
      const list = await reader.list();
      print(
        values.json,
        {
          quiltId: reader.quiltId,
          patches: list.map((p) => ({
            identifier: p.identifier,
            quiltPatchId: p.quiltPatchId,
            tags: p.tags,
            range: [p.startIndex, p.endIndex],
          })),
        },
        list
          .map(
            (p) =>
              `${p.quiltPatchId}  [${p.startIndex}, ${p.endIndex})  ${p.identifier}${Object.keys(p.tags).length ? `  ${JSON.stringify(p.tags)}` : ''}`,
          )
          .join('\n'),
      );
      return 0;
    }
    default:
      throw usageError(`unknown command ${JSON.stringify(command)}`);
  }
}

/** `<dir>/<identifier>`, refusing identifiers that would escape `dir` or name no plain file. */
function patchFile(dir: string, identifier: string): string {
  const file = resolve(dir, identifier);
  if (!file.startsWith(dir + sep) || identifier.includes('\0'))
    throw new TuskInputError(`patch identifier ${JSON.stringify(identifier)} cannot be used as a file name in ${dir}`);
  return file;
}

/** Every file under `paths` (directories recursively, in name order); identifier = file name. */
async function blobsFromPaths(paths: string[]): Promise<QuiltBlobInput[]> {
  const out: QuiltBlobInput[] = [];
  const walk = async (p: string): Promise<void> => {
    const s = await stat(p).catch(() => {
      throw new TuskInputError(`${p}: no such file or directory`);
    });
    if (s.isDirectory()) {
      for (const e of (await readdir(p)).sort()) await walk(join(p, e));
    } else if (s.isFile()) {
      out.push({ identifier: basename(p), contents: new Uint8Array(await readFile(p)) });
    }
  };
  for (const p of paths) await walk(p);
  if (out.length === 0) throw new TuskInputError('no files found under --paths: a quilt needs at least one patch');
  return out;
}

/** `--blobs` entries: `{"path": "…", "identifier"?: "…", "tags"?: {…}}`. */
async function blobsFromJson(entries: string[]): Promise<QuiltBlobInput[]> {
  const out: QuiltBlobInput[] = [];
  for (const raw of entries) {
    let spec: { path?: unknown; identifier?: unknown; tags?: unknown };
    try {
      spec = JSON.parse(raw);
    } catch {
      throw new TuskInputError(`--blobs entry is not JSON: ${raw}`);
    }
    if (!spec || typeof spec !== 'object' || typeof spec.path !== 'string')
      throw new TuskInputError(`--blobs entry needs a "path" string: ${raw}`);
    if (spec.identifier !== undefined && typeof spec.identifier !== 'string')
      throw new TuskInputError(`--blobs entry's "identifier" must be a string: ${raw}`);
    if (
      spec.tags !== undefined &&
      (typeof spec.tags !== 'object' ||
        spec.tags === null ||
        Array.isArray(spec.tags) ||
        Object.values(spec.tags).some((v) => typeof v !== 'string'))
    ) {
      throw new TuskInputError(`--blobs entry's "tags" must be an object of strings: ${raw}`);
    }
    const contents = await readFile(spec.path).catch((e) => {
      throw new TuskInputError(`${spec.path}: ${(e as Error).message}`);
    });
    out.push({
      identifier: (spec.identifier as string | undefined) ?? basename(spec.path),
      contents: new Uint8Array(contents),
      tags: spec.tags as Record<string, string> | undefined,
    });
  }
  return out;
}
