/**
 * The `tusk` command-line interface. Output contract: results on stdout (with --json, one JSON
 * object with camelCase keys and nothing else — on failure `{"error":{kind,message,retryable}}`),
 * warnings and errors on stderr (one line), exit code 0 on success, 1 on failure, 2 on a usage
 * error (the reason and a pointer to `--help`), 130 when interrupted by Ctrl-C (SIGINT).
 */
import { readFile, stat } from 'node:fs/promises';
import { computeBlobMetadata } from '../codec/encode.ts';
import { computeBlobMetadataAsync } from '../pool/async-codec.ts';
import { encodeStream } from '../stream/encode-stream.ts';
import { decodeDirectory } from '../stream/decode-stream.ts';
import { callbackSink } from '../stream/sink.ts';
import { directorySink } from '../stream/sliver-dir.ts';
import { outputDescriptor } from '../stream/output.ts';
import { closeDefaultPool } from '../pool/codec-pool.ts';
import { EncodingConfig, MAX_ENCODER_SHARDS } from '../codec/config.ts';
import { encodingByName, type EncodingScheme } from '../codec/encodings/index.ts';
import { blobSummary } from '../stream/sliver-dir.ts';
import { TuskError, TuskInputError } from '../errors.ts';
import { describeFileError, onePositional, parseCommand, print, UsageError, withProgress } from './common.ts';
import { CHAIN_USAGE, chainCommand, walletCommand } from './chain-command.ts';
import { CLIENT_USAGE, clientCommand } from './client-commands.ts';
import { DEV_USAGE, devCommand } from './dev-command.ts';
import { NODE_USAGE, nodeCommand } from './node-command.ts';
import { QUILT_USAGE, quiltCommand } from './quilt-commands.ts';
import { DATASET_USAGE, datasetCommand } from './dataset-commands.ts';
import { AGE_USAGE, ageCommand } from './age-commands.ts';
import { GATEWAY_USAGE, gatewayCommand } from './gateway-command.ts';
import { BENCH_USAGE, benchCommand } from './bench-command.ts';
import { ATTRIBUTE_COMMANDS, ATTRIBUTE_USAGE, attributeCommand } from './attribute-commands.ts';
import { COMPLETION_SHELLS, completionScript, type CompletionShell } from './completion-command.ts';

const CODEC_USAGE = `Codec (no network):
  blob-id <file>              Print the blob ID of <file> (RS2, the Walrus encoding, by default).
  encode <file> --out <dir>   Encode <file> into a sliver directory (metadata + every sliver, BCS).
  decode <dir> --out <file>   Rebuild the blob from whatever slivers <dir> holds (each is verified;
                              invalid ones are skipped with a warning).

Options:
  --n-shards <n>      committee size for blob-id/encode (default 1000 for rs2, as on Walrus
                      Mainnet/Testnet; 100 for rs8)
  --encoding <type>   blob-id/encode: rs2 (default; Walrus) or rs8 (GF(2^8), committees of 4…195;
                      decode reads the type from the metadata)
  --force             encode: replace an existing sliver directory (only one holding nothing but
                      the layout below); decode: replace an existing file
  --out <file>        decode: also - (stdout), a device or a FIFO (written in place, once verified)
  --check <kind>      decode: consistency check default|skip (default re-checks every
                      reconstructed sliver against the metadata)
  --json              print a JSON object instead of text
  -h, --help          show this help
  -v, --version       show the version

Sliver directory layout: blob.json, metadata.bcs (BlobMetadataWithId), primary/<i>.bcs and
secondary/<j>.bcs (SliverData); sliver pair i = primary/<i>.bcs + secondary/<n−1−i>.bcs.
`;

const USAGE = `Usage: tusk <command> [options]      (tusk <command> --help: that command's options)

${CODEC_USAGE}
${CLIENT_USAGE}
${QUILT_USAGE}
${DATASET_USAGE}
${DEV_USAGE}
${CHAIN_USAGE}
${NODE_USAGE}
${AGE_USAGE}
${ATTRIBUTE_USAGE}
${GATEWAY_USAGE}
${BENCH_USAGE}

Shell completion:
  completion bash|zsh|fish    Print a completion script (bash: source <(tusk completion bash)).`;

const ENCODING_OPTIONS = {
  'n-shards': { type: 'string' },
  encoding: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;
const BLOB_ID_OPTIONS = ENCODING_OPTIONS;
const ENCODE_OPTIONS = { ...ENCODING_OPTIONS, out: { type: 'string' }, force: { type: 'boolean', default: false } } as const;
const DECODE_OPTIONS = {
  out: { type: 'string' },
  force: { type: 'boolean', default: false },
  check: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

/**
 * Committee size and encoding from the options, validated before a large file is read. A bad
 * value is a usage error naming the real range (n_shards ≥ 4 up to the encoding's maximum).
 */
function parseEncoding(values: { 'n-shards'?: string; encoding?: string }): { nShards: number; encoding: EncodingScheme } {
  let encoding: EncodingScheme;
  try {
    encoding = encodingByName(values.encoding ?? 'rs2');
  } catch (e) {
    throw new UsageError(`--encoding: ${(e as Error).message}`);
  }
  const raw = values['n-shards'];
  // The encoders' real range: at least 4 (below, f = 0: no redundancy), at most what the
  // encoding allows and the encoder's memory holds.
  const max = Math.min(encoding.maxShards, MAX_ENCODER_SHARDS);
  const range = `--n-shards must be an integer in 4…${max} for ${encoding.name}`;
  if (raw !== undefined && (!/^\d+$/.test(raw) || Number(raw) < 4 || Number(raw) > max))
    throw new UsageError(`${range}, got ${JSON.stringify(raw)}`);
  const nShards = raw === undefined ? (encoding.name === 'RS2' ? 1000 : Math.min(100, encoding.maxShards)) : Number(raw);
  try {
    new EncodingConfig(nShards, encoding);
  } catch (e) {
    if (e instanceof TuskInputError) throw new UsageError(`--n-shards ${nShards}: ${e.message}`);
    throw e;
  }
  return { nShards, encoding };
}

async function readBlobFile(path: string): Promise<Uint8Array> {
  const data = await readFile(path);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

async function blobIdCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseCommand('blob-id', args, BLOB_ID_OPTIONS);
  const file = onePositional(positionals, 'file', 'blob-id');
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
            encodeStream(file, {
              nShards,
              encoding,
              sink: callbackSink(() => {}),
              onProgress: (p) => bar.update(`blob-id ${p.phase}`, p.bytesDone, p.bytesTotal),
              signal: interruptSignal(),
            }),
          );
  print(values.json, blobSummary(meta), meta.blobIdString);
}

async function encodeCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseCommand('encode', args, ENCODE_OPTIONS);
  const file = onePositional(positionals, 'file', 'encode');
  if (!values.out) throw new UsageError('encode needs --out <dir>');
  const { nShards, encoding } = parseEncoding(values);
  // Streaming: memory stays bounded whatever the file size; every core works on the stripes.
  const sink = await directorySink(values.out, { overwrite: values.force });
  const result = await withProgress(!values.json, (bar) =>
    encodeStream(file, {
      nShards,
      encoding,
      sink,
      onProgress: (p) => bar.update(`encode ${p.phase}`, p.bytesDone, p.bytesTotal),
      signal: interruptSignal(),
    }),
  );
  print(values.json, { ...blobSummary(result), out: values.out, slivers: 2 * nShards }, result.blobIdString);
}

async function decodeCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseCommand('decode', args, DECODE_OPTIONS);
  const dir = onePositional(positionals, 'directory', 'decode');
  if (!values.out) throw new UsageError('decode needs --out <file> (- for stdout)');
  if (values.json && outputDescriptor(values.out) === 1)
    throw new UsageError('--json and --out - both write to stdout: give --out a file, or leave out --json');
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
  // With the blob on stdout (--out -), the summary goes to stderr.
  if (outputDescriptor(values.out!) === 1) process.stderr.write(`${result.blobId} → stdout (${result.bytes} bytes)\n`);
  else print(values.json, { ...result, out: values.out }, `${result.blobId} → ${values.out} (${result.bytes} bytes)`);
}

/** Ctrl-C aborts long work (so temporary files are removed); one listener per CLI run, removed after. */
const interrupts = {
  controller: undefined as AbortController | undefined,
  listener: undefined as (() => void) | undefined,
  signal(): AbortSignal {
    if (!this.controller) {
      const controller = (this.controller = new AbortController());
      this.listener = () => controller.abort(new TuskError('interrupted (SIGINT)'));
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

/** Exit code of a run stopped by Ctrl-C (128 + SIGINT), as shells expect. */
export const EXIT_INTERRUPTED = 130;

/** How a failure is reported: exit code, kind (for `--json`), one line for stderr. */
function classify(e: unknown, command: string | undefined): { code: number; kind: string; message: string; retryable: boolean } {
  if (interrupts.controller?.signal.aborted)
    return { code: EXIT_INTERRUPTED, kind: 'interrupted', message: 'interrupted (SIGINT)', retryable: true };
  if (e instanceof UsageError) return { code: 2, kind: 'usage', message: e.message, retryable: false };
  // node:util parseArgs of a command that does not go through parseCommand: still a usage error.
  if ((e as { code?: string })?.code?.startsWith('ERR_PARSE_ARGS'))
    return { code: 2, kind: 'usage', message: `${command ?? 'tusk'}: ${(e as Error).message.split('\n')[0]}`, retryable: false };
  const file = describeFileError(e);
  if (file !== null) return { code: 1, kind: 'file', message: file, retryable: false };
  if (e instanceof TuskError)
    return { code: 1, kind: e instanceof TuskInputError ? 'input' : 'failed', message: e.message, retryable: e.retryable };
  // Anything else is our bug or the environment's: still one line and exit 1 (TUSK_DEBUG=1 prints the stack).
  return { code: 1, kind: 'internal', message: `internal error: ${(e as Error)?.message ?? String(e)}`, retryable: false };
}

/** Whether the command line asks for JSON output (before a `--` end of options). */
function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    return await dispatch(argv);
  } catch (e) {
    // The reader of our stdout went away (`tusk read … | head`): stop quietly, as `cat` does
    // (128 + SIGPIPE).
    if ((e as NodeJS.ErrnoException)?.code === 'EPIPE') return 141;
    const { code, kind, message, retryable } = classify(e, argv[0]);
    const lines = message.split('\n');
    process.stderr.write(`tusk: ${lines.join(' ')}\n`);
    if (kind === 'usage') process.stderr.write(`Run 'tusk ${helpTopic(argv)}--help' for usage.\n`);
    if (kind === 'internal' && process.env.TUSK_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? ''}\n`);
    if (wantsJson(argv))
      process.stdout.write(JSON.stringify({ error: { kind, message: lines.join(' '), retryable, exitCode: code } }) + '\n');
    return code;
  } finally {
    interrupts.dispose();
    await closeDefaultPool();
  }
}

/** `command ` (or `chain serve `…) for the `--help` pointer of a usage error. */
function helpTopic(argv: string[]): string {
  const [command, sub] = argv;
  if (command === undefined || !(command in HELP_TOPICS)) return '';
  return (command === 'chain' || command === 'wallet' || command === 'node') && sub !== undefined && !sub.startsWith('-')
    ? `${command} ${sub} `
    : `${command} `;
}

/** The help text of each command (`tusk <command> --help`). */
const HELP_TOPICS: Record<string, string> = {
  'blob-id': CODEC_USAGE,
  encode: CODEC_USAGE,
  decode: CODEC_USAGE,
  store: CLIENT_USAGE,
  read: CLIENT_USAGE,
  'blob-status': CLIENT_USAGE,
  'list-blobs': CLIENT_USAGE,
  extend: CLIENT_USAGE,
  delete: CLIENT_USAGE,
  info: CLIENT_USAGE,
  stake: CLIENT_USAGE,
  'list-storage': CLIENT_USAGE,
  dev: DEV_USAGE,
  chain: CHAIN_USAGE,
  wallet: CHAIN_USAGE,
  node: NODE_USAGE,
  bench: BENCH_USAGE,
  dataset: DATASET_USAGE,
  ...Object.fromEntries([...ATTRIBUTE_COMMANDS].map((c) => [c, ATTRIBUTE_USAGE])),
};

async function dispatch(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // `tusk <command> --help` (anywhere before `--`): that command's part of the help.
  if (command !== undefined && command in HELP_TOPICS) {
    const end = rest.indexOf('--');
    const options = end < 0 ? rest : rest.slice(0, end);
    if (options.includes('--help') || options.includes('-h')) {
      process.stdout.write(`Usage: tusk ${command} …\n\n${HELP_TOPICS[command]}`);
      return 0;
    }
  }
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
    case 'keygen':
    case 'encrypt':
    case 'decrypt':
      return ageCommand(command, rest, (m) => new UsageError(m));
    case 'publisher':
    case 'aggregator':
    case 'daemon':
      return gatewayCommand(command, rest, (m) => new UsageError(m));
    case 'bench':
      return benchCommand(rest, (m) => new UsageError(m));
    case 'completion': {
      const shell = rest[0] as CompletionShell;
      if (rest.length !== 1 || !COMPLETION_SHELLS.includes(shell))
        throw new UsageError(`completion takes one shell: ${COMPLETION_SHELLS.join(', ')}`);
      process.stdout.write(completionScript(shell, USAGE));
      return 0;
    }
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
    case 'store-quilt':
    case 'read-quilt':
    case 'list-patches-in-quilt':
      return quiltCommand(command, rest, (m) => new UsageError(m), interruptSignal());
    case 'dataset':
      return datasetCommand(rest, interruptSignal());
    default:
      if (ATTRIBUTE_COMMANDS.has(command)) return attributeCommand(command, rest, (m) => new UsageError(m));
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}
