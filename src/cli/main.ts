/**
 * The `tusk` command-line interface. Output contract: results on stdout (with --json, one JSON
 * object with camelCase keys and nothing else), warnings and errors on stderr, exit code 0 on
 * success, 1 on failure, 2 on a usage error.
 */
import { parseArgs } from 'node:util';
import { readFile, stat } from 'node:fs/promises';
import { computeBlobMetadata } from '../codec/encode.ts';
import { computeBlobMetadataAsync } from '../pool/async-codec.ts';
import { encodeStream } from '../stream/encode-stream.ts';
import { decodeDirectory } from '../stream/decode-stream.ts';
import { callbackSink } from '../stream/sink.ts';
import { directorySink } from '../stream/sliver-dir.ts';
import { closeDefaultPool } from '../pool/codec-pool.ts';
import { EncodingConfig } from '../codec/config.ts';
import { encodingByName, type EncodingScheme } from '../codec/encodings/index.ts';
import { blobSummary } from '../stream/sliver-dir.ts';
import { TuskError } from '../errors.ts';
import { onePositional, print, withProgress } from './common.ts';
import { CHAIN_USAGE, chainCommand, walletCommand } from './chain-command.ts';
import { CLIENT_USAGE, clientCommand } from './client-commands.ts';
import { DEV_USAGE, devCommand } from './dev-command.ts';
import { NODE_USAGE, nodeCommand } from './node-command.ts';
import { BENCH_USAGE, benchCommand } from './bench-command.ts';

const USAGE = `Usage: tusk <command> [options]

Commands:
  blob-id <file>              Print the blob ID of <file> (RS2, the Walrus encoding, by default).
  encode <file> --out <dir>   Encode <file> into a sliver directory (metadata + every sliver, BCS).
  decode <dir> --out <file>   Rebuild the blob from whatever slivers <dir> holds (each is verified;
                              invalid ones are skipped with a warning).

Options:
  --n-shards <n>      committee size for blob-id/encode (default 1000 for rs2, as on Walrus
                      Mainnet/Testnet; 100 for rs8)
  --encoding <type>   blob-id/encode: rs2 (default; Walrus) or rs8 (GF(2^8), committees of 4…195;
                      decode reads the type from the metadata)
  --force             encode: replace an existing output directory; decode: an existing file
  --check <kind>      decode: consistency check default|skip (default re-checks every
                      reconstructed sliver against the metadata)
  --json              print a JSON object instead of text
  -h, --help          show this help
  -v, --version       show the version

Sliver directory layout: blob.json, metadata.bcs (BlobMetadataWithId), primary/<i>.bcs and
secondary/<j>.bcs (SliverData); sliver pair i = primary/<i>.bcs + secondary/<n−1−i>.bcs.

${CLIENT_USAGE}
${DEV_USAGE}
${CHAIN_USAGE}
${NODE_USAGE}
${BENCH_USAGE}`;

class UsageError extends Error {}

const COMMON = {
  'n-shards': { type: 'string' },
  encoding: { type: 'string' },
  out: { type: 'string' },
  force: { type: 'boolean', default: false },
  check: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

function parse(args: string[]) {
  return parseArgs({ args, allowPositionals: true, options: COMMON });
}

/** Committee size and encoding from the options, validated before a large file is read. */
function parseEncoding(values: { 'n-shards'?: string; encoding?: string }): { nShards: number; encoding: EncodingScheme } {
  const encoding = encodingByName(values.encoding ?? 'rs2');
  const raw = values['n-shards'];
  if (raw !== undefined && !/^\d+$/.test(raw)) throw new UsageError(`--n-shards must be a positive integer, got ${JSON.stringify(raw)}`);
  const nShards = raw === undefined ? (encoding.name === 'RS2' ? 1000 : Math.min(100, encoding.maxShards)) : Number(raw);
  new EncodingConfig(nShards, encoding);
  return { nShards, encoding };
}


async function readBlobFile(path: string): Promise<Uint8Array> {
  const data = await readFile(path);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}


async function blobIdCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args);
  const file = onePositional(positionals, 'file', 'blob-id', (m) => new UsageError(m));
  const { nShards, encoding } = parseEncoding(values);
  // Small files: one thread (starting the worker pool costs ~0.5 s, more than hashing them).
  // Up to 256 MiB: in memory on the pool. Larger: streamed (bounded memory).
  const size = (await stat(file)).size;
  const meta =
    size <= 8 * 2 ** 20
      ? computeBlobMetadata(await readBlobFile(file), { nShards, encoding })
      : size <= 256 * 2 ** 20
      ? await computeBlobMetadataAsync(await readBlobFile(file), { nShards, encoding })
      : await withProgress(!values.json, (bar) =>
          encodeStream(file, { nShards, encoding, sink: callbackSink(() => {}), onProgress: (p) => bar.update(`blob-id ${p.phase}`, p.bytesDone, p.bytesTotal), signal: interruptSignal() }),
        );
  print(values.json, blobSummary(meta), meta.blobIdString);
}

async function encodeCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args);
  const file = onePositional(positionals, 'file', 'encode', (m) => new UsageError(m));
  if (!values.out) throw new UsageError('encode needs --out <dir>');
  const { nShards, encoding } = parseEncoding(values);
  // Streaming: memory stays bounded whatever the file size; every core works on the stripes.
  const sink = await directorySink(values.out, { overwrite: values.force });
  const result = await withProgress(!values.json, (bar) =>
    encodeStream(file, { nShards, encoding, sink, onProgress: (p) => bar.update(`encode ${p.phase}`, p.bytesDone, p.bytesTotal), signal: interruptSignal() }),
  );
  print(values.json, { ...blobSummary(result), out: values.out, slivers: 2 * nShards }, result.blobIdString);
}

async function decodeCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args);
  const dir = onePositional(positionals, 'directory', 'decode', (m) => new UsageError(m));
  if (!values.out) throw new UsageError('decode needs --out <file>');
  const check = (values.check ?? 'default') as 'default' | 'skip' | 'strict';
  if (!['default', 'strict', 'skip'].includes(check)) throw new UsageError(`--check must be default or skip`);
  if (check === 'strict') throw new UsageError('--check strict is available in the library (decodeBlob); decode supports default|skip');
  const result = await withProgress(!values.json, (bar) =>
    decodeDirectory(dir, values.out!, {
      overwrite: values.force,
      consistencyCheck: check,
      onRejected: (e) => {
        bar.clear();
        process.stderr.write(`tusk: warning: ignoring ${e.message}\n`);
      },
      onProgress: (p) => bar.update(`decode ${p.phase}`, p.bytesDone, p.bytesTotal),
      signal: interruptSignal(),
    }),
  );
  print(values.json, { ...result, out: values.out }, `${result.blobId} → ${values.out} (${result.bytes} bytes)`);
}

/** Ctrl-C aborts long work (so temporary files are removed); one listener per CLI run, removed after. */
const interrupts = {
  controller: undefined as AbortController | undefined,
  listener: undefined as (() => void) | undefined,
  signal(): AbortSignal {
    if (!this.controller) {
      const controller = (this.controller = new AbortController());
      this.listener = () => controller.abort(new TuskError('interrupted'));
      process.once('SIGINT', this.listener);
    }
    return this.controller.signal;
  },
  dispose(): void {
    if (this.listener) process.removeListener('SIGINT', this.listener);
    this.controller = undefined;
    this.listener = undefined;
  },
};

function interruptSignal(): AbortSignal {
  return interrupts.signal();
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    return await dispatch(argv);
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`tusk: ${(e as Error).message}\n\n${USAGE}`);
      return 2;
    }
    if (e instanceof TuskError) {
      process.stderr.write(`tusk: ${e.message}\n`);
      return 1;
    }
    const err = e as NodeJS.ErrnoException;
    if (typeof err.code === 'string' && /^E[A-Z]+$/.test(err.code)) {
      process.stderr.write(`tusk: ${err.message}\n`);
      return 1;
    }
    // Anything else is our bug or the environment's: still one line on stderr and exit 1
    // (TUSK_DEBUG=1 prints the stack).
    process.stderr.write(`tusk: internal error: ${(e as Error)?.message ?? String(e)}\n`);
    if (process.env.TUSK_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? ''}\n`);
    return 1;
  } finally {
    interrupts.dispose();
    await closeDefaultPool();
  }
}

async function dispatch(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
      process.stderr.write(USAGE);
      return 2;
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return 0;
    case '-v':
    case '--version': {
      const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));
      process.stdout.write(`tusk ${pkg.version}\n`);
      return 0;
    }
    case 'blob-id':
      await blobIdCommand(rest);
      return 0;
    case 'encode':
      await encodeCommand(rest);
      return 0;
    case 'decode':
      await decodeCommand(rest);
      return 0;
    case 'chain':
      return chainCommand(rest, (m) => new UsageError(m));
    case 'wallet':
      return walletCommand(rest, (m) => new UsageError(m));
    case 'dev':
      return devCommand(rest);
    case 'node':
      return nodeCommand(rest, (m) => new UsageError(m));
    case 'bench':
      return benchCommand(rest, (m) => new UsageError(m));
    case 'store':
    case 'read':
    case 'blob-status':
    case 'list-blobs':
    case 'list-storage':
    case 'extend':
    case 'delete':
    case 'info':
    case 'stake':
      return clientCommand(command, rest, (m) => new UsageError(m), interruptSignal());
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}
