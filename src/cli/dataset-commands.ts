/**
 * `tusk dataset …`: publish a directory of any size as a dataset (resumable through a journal),
 * list it, read one file by path (whole or a byte range) and fetch it all, each file checked
 * against its SHA-256 (docs/datasets.md). Output contract as in the other client commands:
 * results on stdout (one JSON object under --json), progress and errors on stderr.
 */
import { resolve } from 'node:path';
import { RemoteChain } from '../chain/remote/client.ts';
import { defaultConfigPath, loadClientConfig, loadWallet } from '../client/client-config.ts';
import { defaultJournalPath } from '../dataset/journal.ts';
import { storageKind } from '../dataset/manifest.ts';
import { publishDataset, type DatasetProgress } from '../dataset/publish.ts';
import { DatasetReader, fetchDataset, loadManifest, type FileRange } from '../dataset/read-dataset.ts';
import { outputDescriptor } from '../stream/output.ts';
import { bar, intOption, parseCommand, print, progressLine, UsageError } from './common.ts';

/** Usage text of the dataset commands (main.ts appends it to its own). */
export const DATASET_USAGE = `Datasets (a directory of any size; small files in quilts, huge ones in chunks; docs/datasets.md):
  dataset publish <dir> --epochs N      Store every file and a manifest; prints the manifest ID.
                                        Resumable: a re-run skips what is certified (--journal <file>,
                                        default next to the config). Also --permanent|--deletable,
                                        --chunk-size <bytes>, --parallel N, --small-file-max <bytes>
                                        (files up to it go into quilts; default 1 MiB).
  dataset ls <manifest id>              Paths, sizes, SHA-256 and where each file is stored.
  dataset get <manifest id> <path> [--out <file>|-] [--range A-B] [--force]
                                        One file (SHA-256 checked); --range: bytes A…B inclusive.
  dataset fetch <manifest id> --out <dir> [--force]
                                        Every file under <dir>, each SHA-256 checked.
`;

const OPTIONS = {
  config: { type: 'string' },
  json: { type: 'boolean', default: false },
  epochs: { type: 'string' },
  permanent: { type: 'boolean', default: false },
  deletable: { type: 'boolean', default: false },
  journal: { type: 'string' },
  'chunk-size': { type: 'string' },
  'small-file-max': { type: 'string' },
  parallel: { type: 'string' },
  out: { type: 'string' },
  range: { type: 'string' },
  force: { type: 'boolean', default: false },
} as const;

/** Which options each subcommand takes (anything else is a usage error). */
const ALLOWED: Record<string, readonly string[]> = {
  publish: ['config', 'json', 'epochs', 'permanent', 'deletable', 'journal', 'chunk-size', 'small-file-max', 'parallel'],
  ls: ['config', 'json'],
  get: ['config', 'json', 'out', 'range', 'force'],
  fetch: ['config', 'json', 'out', 'force'],
};

/** Parses `A-B` (inclusive) or `A-` (to the end). @throws UsageError */
export function parseRangeArg(text: string): { start: number; end: number | null } {
  const m = /^(\d+)-(\d*)$/.exec(text);
  if (!m) throw new UsageError(`--range must be A-B (inclusive byte offsets) or A-, got ${JSON.stringify(text)}`);
  const start = Number(m[1]);
  const end = m[2] === '' ? null : Number(m[2]);
  if (!Number.isSafeInteger(start) || (end !== null && (!Number.isSafeInteger(end) || end < start)))
    throw new UsageError(`--range ${text}: the end must not be before the start`);
  return { start, end };
}

const MiB = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

/** Runs `tusk dataset <sub> …`; resolves to the exit code. */
export async function datasetCommand(argv: string[], signal: AbortSignal): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || !(sub in ALLOWED))
    throw new UsageError(`dataset needs a subcommand: publish, ls, get or fetch${sub ? ` (got ${JSON.stringify(sub)})` : ''}`);
  const { values, positionals } = parseCommand(`dataset ${sub}`, rest, OPTIONS);
  for (const [k, v] of Object.entries(values))
    if (k !== 'help' && v !== undefined && v !== false && !ALLOWED[sub].includes(k))
      throw new UsageError(`dataset ${sub}: unknown option --${k}`);
  const configPath = values.config ?? defaultConfigPath();
  const connect = async () => {
    const config = await loadClientConfig(configPath);
    return { config, chain: new RemoteChain({ url: config.chainUrl }) };
  };
  switch (sub) {
    case 'publish': {
      if (positionals.length !== 1) throw new UsageError('dataset publish takes exactly one directory');
      if (values.epochs === undefined) throw new UsageError('--epochs is required');
      if (values.permanent && values.deletable) throw new UsageError('choose one of --permanent and --deletable');
      const epochs = intOption(values.epochs, 'epochs', 1, 2 ** 32 - 1)!;
      const chunkSize = intOption(values['chunk-size'], 'chunk-size', 1, Number.MAX_SAFE_INTEGER);
      const smallFileMax = intOption(values['small-file-max'], 'small-file-max', 0, Number.MAX_SAFE_INTEGER);
      const parallel = intOption(values.parallel, 'parallel', 1, 64);
      const root = resolve(positionals[0]);
      const { config, chain } = await connect();
      const max = (await chain.systemState()).maxEpochsAhead;
      if (epochs > max) throw new UsageError(`--epochs must be an integer in 1…${max} (epochs ahead, as this chain allows), got ${epochs}`);
      const wallet = await loadWallet(config.wallet);
      const journalPath = values.journal ?? defaultJournalPath(resolve(configPath), root);
      const p = progressLine(!values.json);
      // Not a terminal: a plain line now and then (a log keeps them), whatever --json says.
      const plain = process.stderr.isTTY !== true;
      let lastPlain = 0;
      let lastPhase = '';
      const onProgress = (e: DatasetProgress) => {
        if (e.message) {
          p.clear();
          process.stderr.write(`tusk: ${e.message}\n`);
        }
        const units = e.unitsTotal !== undefined ? ` (${e.unitsDone}/${e.unitsTotal} units)` : '';
        p.update(`dataset ${e.phase}${units}`, e.bytesDone, e.bytesTotal);
        if (plain && (e.phase !== lastPhase || Date.now() - lastPlain > 5000)) {
          lastPlain = Date.now();
          lastPhase = e.phase;
          process.stderr.write(`tusk dataset: ${e.phase} ${MiB(e.bytesDone)} of ${MiB(e.bytesTotal)}${units}\n`);
        }
      };
      try {
        const r = await publishDataset(root, {
          chain,
          signer: wallet,
          epochs,
          deletable: !values.permanent,
          journalPath,
          chunkSize,
          smallFileMax,
          parallel,
          signal,
          onProgress,
        });
        p.clear();
        print(
          values.json,
          { ...r, cost: r.cost.toString(), elapsedMs: Math.round(r.elapsedMs) },
          [
            `manifest ID: ${r.manifestId}`,
            `files:       ${r.files} (${MiB(r.totalBytes)}; ${r.units.quilts} quilts, ${r.units.blobs} blobs, ${r.units.chunks} chunks)`,
            `this run:    stored ${MiB(r.uploadedBytes)} in ${r.units.stored} units, skipped ${MiB(r.skippedBytes)} already certified` +
              (r.reusedRegistrations ? `, ${r.reusedRegistrations} earlier registrations reused` : ''),
            `chain:       ${r.transactions.registrations} registration and ${r.transactions.certifications} certification transactions`,
            `cost:        ${r.cost} FROST`,
            ...(r.changedFiles.length ? [`changed since the last run: ${r.changedFiles.join(', ')}`] : []),
          ].join('\n'),
        );
      } catch (e) {
        p.clear();
        if (!values.json)
          process.stderr.write(`tusk: the journal ${journalPath} keeps what is done: run the same command again to resume\n`);
        throw e;
      }
      return 0;
    }
    case 'ls': {
      if (positionals.length !== 1) throw new UsageError('dataset ls takes exactly one manifest ID');
      const { chain } = await connect();
      const m = await loadManifest(positionals[0], { chain, signal });
      const files = m.files.map((f) => ({ ...f, storage: storageKind(f) }));
      print(
        values.json,
        { manifestId: positionals[0], files },
        files.map((f) => `${String(f.size).padStart(12)}  ${f.sha256.slice(0, 16)}  ${f.storage.padEnd(6)}  ${f.path}`).join('\n'),
      );
      return 0;
    }
    case 'get': {
      if (positionals.length !== 2) throw new UsageError('dataset get takes a manifest ID and a path');
      const out = values.out ?? '-';
      if (values.json && outputDescriptor(out) === 1) throw new UsageError('--json and output to stdout: give --out a file');
      if (out === '-' && process.stdout.isTTY && !values.out)
        throw new UsageError('not writing a file to a terminal: give --out <file> (or --out - to insist)');
      const r = values.range === undefined ? undefined : parseRangeArg(values.range);
      const { chain } = await connect();
      const m = await loadManifest(positionals[0], { chain, signal });
      const reader = new DatasetReader({ chain, signal });
      const file = reader.entry(m, positionals[1]);
      let range: FileRange | undefined;
      if (r) {
        if (r.start >= file.size) throw new UsageError(`--range ${values.range}: the file has ${file.size} bytes`);
        range = { start: r.start, end: Math.min(r.end ?? file.size - 1, file.size - 1) };
      }
      const bytes = await reader.writeTo(file, out, { range, overwrite: values.force, signal });
      if (outputDescriptor(out) === 1) process.stderr.write(`${file.path} → stdout (${bytes} bytes)\n`);
      else
        print(
          values.json,
          { path: file.path, out, bytes, sha256: range ? null : file.sha256, range: range ?? null },
          `${file.path} → ${out} (${bytes} bytes${range ? '' : ', SHA-256 checked'})`,
        );
      return 0;
    }
    case 'fetch': {
      if (positionals.length !== 1) throw new UsageError('dataset fetch takes exactly one manifest ID');
      if (!values.out) throw new UsageError('dataset fetch needs --out <dir>');
      const { chain } = await connect();
      const p = progressLine(!values.json);
      const m = await loadManifest(positionals[0], { chain, signal });
      const total = m.files.reduce((s, f) => s + f.size, 0);
      let got = 0;
      const r = await fetchDataset(m, values.out, {
        chain,
        signal,
        overwrite: values.force,
        onFile: (f, done, n) => {
          got += f.size;
          p.show(`fetch ${done}/${n} files ${bar(got, total)}`, done === n);
        },
      });
      p.clear();
      print(
        values.json,
        { manifestId: positionals[0], out: values.out, ...r },
        `${r.files} files (${MiB(r.bytes)}) → ${values.out}, each SHA-256 checked`,
      );
      return 0;
    }
  }
  return 2;
}
