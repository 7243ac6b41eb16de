/**
 * The codec commands (no network): `blob-id`, `encode`, `decode`. Loaded by main.ts only when one
 * of them runs, so they pay for the codec, the pool and the streaming code and nothing else (no
 * chain, node, HTTP or Sui modules). blob-id runs on this thread plus a worker per other core, started
 * before the file is read so the threads boot while the disk works (small committees: this thread).
 */
import { readFile, stat } from 'node:fs/promises';
import { availableParallelism, totalmem } from 'node:os';
import { EncodingConfig, MAX_ENCODER_SHARDS } from '../codec/config.ts';
import { encodingByName, type EncodingScheme } from '../codec/encodings/index.ts';
import { blobSummary } from '../stream/sliver-dir.ts';
import { TuskInputError } from '../errors.ts';
import { onePositional, parseCommand, print, UsageError, withProgress } from './common.ts';

// The encoder, the pool and the streaming code are imported where a command needs them: a small
// blob-id with a small committee loads the single-threaded encoder only (no worker start).

export const CODEC_USAGE = `Codec (no network):
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

/** Above this size `blob-id` always takes a pool (a worker's boot is noise) and shows progress. */
const LARGE_FILE = 256 * 2 ** 20;

/**
 * The RAM this process may use: the machine's, or less under a cgroup limit (a container), which
 * also counts the page cache the file-source path relies on.
 */
function machineMemory(): number {
  const limit = process.constrainedMemory?.() || Infinity;
  return Math.min(totalmem(), limit);
}

/**
 * Whether a blob-ID job repays booting a worker thread (~0.1 s of CPU, a little less of wall time):
 * when it needs ≳ 10⁶ BLAKE2b compressions (~0.1 s) — n² leaves and 2n(n − 1) inner nodes whatever
 * the size (1.5 M of them at n = 700), plus the encoded bytes' blocks.
 */
function worthAWorker(nShards: number, size: number): boolean {
  return 3 * nShards * nShards + (4.5 * size) / 128 >= 1.5e6;
}

async function blobIdCommand(args: string[], interruptSignal: () => AbortSignal): Promise<void> {
  const { values, positionals } = parseCommand('blob-id', args, BLOB_ID_OPTIONS);
  const file = onePositional(positionals, 'file', 'blob-id');
  const { nShards, encoding } = parseEncoding(values);
  // A pipe or device (no size known in advance) is read whole first. Up to 256 MiB, a job too
  // small to repay a worker's boot runs here alone. Otherwise a pool: this thread plus one worker
  // thread per other core (this thread runs a slot's tasks itself rather than wait: one thread
  // fewer to boot). A regular file goes straight from the file into kernel memory piecewise
  // (stream/file-metadata.ts: memory bounded, the recovery columns wait in a temporary file of
  // ~0.5× the blob); beyond a third of RAM, where the file and that spill might not both stay in
  // the page cache (Phase B reads every row of the file again, stripe by stripe), it is streamed
  // instead (encode-stream.ts: one sequential read, ~1.5× the blob through temporary files).
  const st = await stat(file);
  const size = st.size;
  const regular = st.isFile();
  const cores = availableParallelism();
  let meta;
  if ((!regular || size <= LARGE_FILE) && (cores < 2 || !worthAWorker(nShards, size))) {
    const { computeBlobMetadata } = await import('../codec/encode.ts');
    meta = computeBlobMetadata(await readBlobFile(file), { nShards, encoding });
  } else if (!regular || size <= machineMemory() / 3) {
    const [{ CodecPool }, { computeFileMetadata }, { computeBlobMetadataAsync }] = await Promise.all([
      import('../pool/codec-pool.ts'),
      import('../stream/file-metadata.ts'),
      import('../pool/async-codec.ts'),
    ]);
    // The worker threads boot while the file is read; each row task starts as soon as its rows
    // have arrived.
    const pool = new CodecPool({ threads: Math.max(1, cores - 1), callerSlot: true });
    try {
      meta = regular
        ? await withProgress(!values.json && size > LARGE_FILE, (bar) =>
            computeFileMetadata(file, {
              nShards,
              encoding,
              pool,
              signal: interruptSignal(),
              onProgress: (p) => bar.update(`blob-id ${p.phase}`, p.bytesDone, p.bytesTotal),
            }),
          )
        : await computeBlobMetadataAsync(await readBlobFile(file), { nShards, encoding, pool });
    } finally {
      await pool.close();
    }
  } else {
    // Bounded memory; no sliver is kept (only the columns pass through a temporary file).
    const { computeStreamMetadata } = await import('../stream/encode-stream.ts');
    meta = await withProgress(!values.json, (bar) =>
      computeStreamMetadata(file, {
        nShards,
        encoding,
        onProgress: (p) => bar.update(`blob-id ${p.phase}`, p.bytesDone, p.bytesTotal),
        signal: interruptSignal(),
      }),
    );
  }
  print(values.json, blobSummary(meta), meta.blobIdString);
}

async function encodeCommand(args: string[], interruptSignal: () => AbortSignal): Promise<void> {
  const { values, positionals } = parseCommand('encode', args, ENCODE_OPTIONS);
  const file = onePositional(positionals, 'file', 'encode');
  if (!values.out) throw new UsageError('encode needs --out <dir>');
  const { nShards, encoding } = parseEncoding(values);
  // Streaming: memory stays bounded whatever the file size; every core works on the stripes.
  const [{ encodeStream }, { directorySink }] = await Promise.all([
    import('../stream/encode-stream.ts'),
    import('../stream/sliver-dir.ts'),
  ]);
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

async function decodeCommand(args: string[], interruptSignal: () => AbortSignal): Promise<void> {
  const { values, positionals } = parseCommand('decode', args, DECODE_OPTIONS);
  const dir = onePositional(positionals, 'directory', 'decode');
  if (!values.out) throw new UsageError('decode needs --out <file> (- for stdout)');
  const [{ decodeDirectory }, { outputDescriptor }] = await Promise.all([
    import('../stream/decode-stream.ts'),
    import('../stream/output.ts'),
  ]);
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

/** The codec commands' names. */
export const CODEC_COMMANDS: ReadonlySet<string> = new Set(['blob-id', 'encode', 'decode']);

/**
 * Runs codec command `command` (one of {@link CODEC_COMMANDS}) with its arguments; `interruptSignal`
 * gives the run's Ctrl-C signal (registered on first use). @returns the exit code (0).
 */
export async function codecCommand(command: string, args: string[], interruptSignal: () => AbortSignal): Promise<number> {
  if (command === 'blob-id') await blobIdCommand(args, interruptSignal);
  else if (command === 'encode') await encodeCommand(args, interruptSignal);
  else await decodeCommand(args, interruptSignal);
  return 0;
}
