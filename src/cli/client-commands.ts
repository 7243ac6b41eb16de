/**
 * The client commands of `tusk`, in the spirit of the Walrus CLI: store, read, blob-status,
 * list-blobs, extend, delete, info, stake. They read the client config (`--config`, else
 * `$TUSK_CONFIG`, else ~/.config/tusk/client.json — `tusk dev` writes one) for the chain URL and
 * the paying wallet. Output contract as everywhere in the CLI: results on stdout (one JSON object
 * with camelCase keys under --json, FROST amounts as decimal strings), errors on stderr.
 */
import { open, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import type { BlobObject, Chain } from '../chain/types.ts';
import { blobIdToString } from '../codec/blob-id.ts';
import { TuskInputError } from '../errors.ts';
import { EncodingConfig } from '../codec/config.ts';
import { encodingByName, type EncodingScheme } from '../codec/encodings/index.ts';
import { selectChain } from './chain-select.ts';
import { paidRegistration, storeBlob, storeFile, storageCost, type StoreProgress } from '../client/store-blob.ts';
import { readBlobToFile, type ReadProgress } from '../client/read-blob.ts';
import { readBlobRange, readBlobRangeToFile } from '../client/read-range.ts';
import { BlobReader } from '../client/blob-reader.ts';
import { makeTempDir } from '../stream/temp-dirs.ts';
import { copyToDescriptor, outputDescriptor } from '../stream/output.ts';
import { formatWal, parseWal } from './chain-command.ts';
import {
  bar,
  describeFileError,
  onePositional,
  parseBlobIdArg,
  parseCommand,
  parseObjectIdArg,
  print,
  progressLine,
  UsageError,
} from './common.ts';
import { AGE_OPTIONS, decryptionFromFlags, encryptionFromFlags, parseRange } from './age-commands.ts';
import { isAgeEncrypted } from '../age/age.ts';
import { parseHeader, headerLength } from '../age/header.ts';
import { challengeSummaryOf, INFO_SECTIONS, infoSectionText, infoSections, type InfoSection } from './system-commands.ts';

/** Usage text of the client commands (main.ts appends it to its own). */
export const CLIENT_USAGE = `Client (store and read through a network; \`tusk dev\` starts a local one and writes the config):
  store <files…> --epochs N [--permanent|--deletable] [--encoding rs2|rs8]
                                        Encode, upload, certify; print blob IDs (rs8: committees ≤ 195
                                        shards). N: 1…the chain's max epochs ahead (tusk info).
  read <blobId> [--out <file>] [--force] [--range A-B]
                                        Read a blob back, verified. --out: a file (written
                                        atomically), - (stdout), a device or FIFO (in place).
                                        Without --out: to stdout, streamed; binary data is not
                                        written to a terminal unless --out - is given. With --json
                                        and no --out the blob is inlined as base64 (up to 1 MiB).
                                        --range A-B / A-: bytes A…B inclusive, downloading only the
                                        slivers that hold them (plaintext bytes with -i).
                                        Encryption flags: see encrypt/decrypt below.
  blob-status <blobId>                  The blob's Blob objects on chain and whether certified.
  list-blobs [--include-expired] [--certified|--registered] [--deletable|--permanent]
             [--blob-id <id>] [--expires-before <epoch>] [--min-size <bytes>] [--max-size <bytes>]
                                        Blob objects owned by the wallet (Walrus: --include-expired;
                                        the other filters are Tusk's; they combine with AND).
  list-storage [--include-expired]      Storage resources the wallet owns (store reuses a fitting one).
  extend --blob-obj-id <id> --epochs N  Pay for N more epochs of a certified blob.
  delete --blob-obj-id <id>             Delete a deletable blob (the storage returns to the wallet).
  info [all|epoch|storage|size|price|committee|bft|challenges]
                                        Epoch, committee, prices, limits; a section as \`walrus info\`
                                        (JSON: Walrus's epochInfo, storageInfo, sizeInfo, priceInfo,
                                        committeeInfo, bftInfo; \`all\` adds the last two, and
                                        challengeInfo: storage-challenge round, last outcomes, jailed
                                        nodes, burnt and slashed totals; null on Sui).
  stake --node-id <id> --amount <WAL>   Stake WAL with a storage node.
  Common: --config <file> (default $TUSK_CONFIG or ~/.config/tusk/client.json), --json,
    --network mainnet|testnet|local (Walrus on Sui; see docs/real-network.md), --rpc-url <url>,
    --wallet <Sui keystore or Tusk key file> (default for Sui: ~/.sui/sui_config/sui.keystore).
  --json prints one object: store {"blobs":[…]} for one file or many; errors {"error":{…}}.
`;

/** Largest blob `read --json` inlines as base64 without --out. */
const JSON_INLINE_MAX = 2 ** 20;
/** Most bytes of a `--range` shown on a terminal (more needs --out). */
const TTY_RANGE_MAX = 2 ** 20;

/** Files above this size are stored through the streaming encoder (bounded memory). */
const STREAM_STORE_BYTES = 64 * 2 ** 20;

/** How long `store` keeps uploading to the remaining nodes once the blob is certified. */
const BACKGROUND_WAIT_MS = 60_000;

const OPTIONS = {
  config: { type: 'string' },
  json: { type: 'boolean', default: false },
  epochs: { type: 'string' },
  // The Walrus CLI's name for extend's epoch count.
  'epochs-extended': { type: 'string' },
  permanent: { type: 'boolean', default: false },
  deletable: { type: 'boolean', default: false },
  out: { type: 'string' },
  force: { type: 'boolean', default: false },
  'blob-obj-id': { type: 'string', multiple: true },
  'node-id': { type: 'string' },
  amount: { type: 'string' },
  'include-expired': { type: 'boolean', default: false },
  certified: { type: 'boolean', default: false },
  registered: { type: 'boolean', default: false },
  'blob-id': { type: 'string' },
  'expires-before': { type: 'string' },
  'min-size': { type: 'string' },
  'max-size': { type: 'string' },
  ...AGE_OPTIONS,
  encoding: { type: 'string' },
  network: { type: 'string' },
  'rpc-url': { type: 'string' },
  wallet: { type: 'string' },
} as const;

type OptionName = keyof typeof OPTIONS;

/** The options each command accepts (besides --config and --json): any other is a usage error. */
const COMMAND_OPTIONS: Record<string, OptionName[]> = {
  store: ['epochs', 'permanent', 'deletable', 'encoding', 'encrypt-to', 'recipients-file', 'passphrase-file', 'work-factor'],
  'list-storage': ['include-expired'],
  read: ['out', 'force', 'identity', 'passphrase-file', 'range', 'raw'],
  'blob-status': [],
  'list-blobs': [
    'include-expired',
    'certified',
    'registered',
    'deletable',
    'permanent',
    'blob-id',
    'expires-before',
    'min-size',
    'max-size',
  ],
  extend: ['blob-obj-id', 'epochs', 'epochs-extended'],
  delete: ['blob-obj-id'],
  info: [],
  stake: ['node-id', 'amount'],
};

type Values = ReturnType<typeof parse>['values'];
function parse(command: string, args: string[]) {
  // Every client command can name its chain: the config, or Walrus on Sui (--network, --rpc-url, --wallet).
  const allowed = new Set<OptionName>(['config', 'json', 'network', 'rpc-url', 'wallet', ...(COMMAND_OPTIONS[command] ?? [])]);
  const options = Object.fromEntries(Object.entries(OPTIONS).filter(([k]) => allowed.has(k as OptionName))) as Partial<typeof OPTIONS>;
  return parseCommand(command, args, options as typeof OPTIONS);
}

/** The single `--blob-obj-id` of extend/delete. @throws UsageError */
function oneObjectId(values: Values, command: string): string {
  const ids = values['blob-obj-id'] ?? [];
  if (ids.length !== 1) throw new UsageError(`${command} needs exactly one --blob-obj-id <id>${ids.length ? `, got ${ids.length}` : ''}`);
  return parseObjectIdArg(ids[0], '--blob-obj-id');
}

/**
 * `--epochs` checked against the chain's real limit before any work: 1…maxEpochsAhead for a store
 * (storage runs from the current epoch), and for an extension at most up to current + maxEpochsAhead.
 * @throws UsageError naming the range
 */
function epochsArg(raw: string | undefined, max: number, what: string): number {
  if (raw === undefined) throw new UsageError(`--epochs is required (${what}: 1…${max})`);
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) {
    throw new UsageError(
      max < 1
        ? `--epochs: ${what}: nothing is possible (got ${JSON.stringify(raw)})`
        : `--epochs must be an integer in 1…${max} (${what}), got ${JSON.stringify(raw)}`,
    );
  }
  return Number(raw);
}

/** Whether `bytes` (the start of a blob) would garble a terminal: a NUL, invalid UTF-8, or escape-free control bytes. */
export function looksBinary(bytes: Uint8Array): boolean {
  if (bytes.includes(0)) return true;
  // A multi-byte character cut at the end of the sample is fine.
  let end = bytes.length;
  for (let i = Math.max(0, end - 3); i < end; i++) if (bytes[i] >= 0xc0) end = i;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, end));
  } catch {
    return true;
  }
  return bytes.some((b) => b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c && b !== 0x1b);
}

/** `--encoding` of store: rs2 (default, Walrus) or rs8; anything else is a usage error. */
function storeEncoding(raw: string | undefined, usageError: (m: string) => Error): EncodingScheme {
  try {
    return encodingByName(raw ?? 'rs2');
  } catch (e) {
    throw usageError((e as Error).message);
  }
}

interface Session {
  chain: Chain;
  wallet: Ed25519Keypair;
}

/** The chain named by `--network` or the client config (`--config`, else the default path). */
async function chainFromConfig(values: Values): Promise<{ chain: Chain }> {
  return selectChain(values);
}

/** The chain and the paying wallet named by `--network`/`--wallet` or the client config. */
async function session(values: Values): Promise<Session> {
  const selected = await selectChain(values);
  return { chain: selected.chain, wallet: await selected.loadWallet() };
}

/** The chain and wallet of the client config at `configPath` (default path if undefined), for other command files. */
export function openClientSession(configPath: string | undefined): Promise<Session> {
  return session({ config: configPath } as Values);
}

function blobJson(b: BlobObject) {
  return {
    objectId: b.id,
    blobId: blobIdToString(b.blobId),
    size: b.size,
    encodingType: b.encodingType,
    registeredEpoch: b.registeredEpoch,
    certifiedEpoch: b.certifiedEpoch,
    endEpoch: b.storage.endEpoch,
    deletable: b.deletable,
    owner: b.owner,
    attributes: b.attributes,
  };
}

/**
 * The `list-blobs` filter of the command's options: expired blobs only with --include-expired (as
 * Walrus), then Tusk's filters, ANDed. Option values are checked here (a usage error names the bad one).
 */
function listBlobsFilter(values: Values, epoch: number, usageError: (m: string) => Error): (b: BlobObject) => boolean {
  const count = (name: 'expires-before' | 'min-size' | 'max-size'): number | undefined => {
    const raw = values[name];
    if (raw === undefined) return undefined;
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw)))
      throw usageError(`--${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
    return Number(raw);
  };
  if (values.certified && values.registered) throw usageError('list-blobs: --certified and --registered exclude each other');
  if (values.deletable && values.permanent) throw usageError('list-blobs: --deletable and --permanent exclude each other');
  const blobId = values['blob-id'] === undefined ? undefined : blobIdToString(parseBlobIdArg(values['blob-id']));
  const before = count('expires-before');
  const min = count('min-size');
  const max = count('max-size');
  return (b) =>
    (values['include-expired'] || b.storage.endEpoch > epoch) &&
    (!values.certified || b.certifiedEpoch !== null) &&
    (!values.registered || b.certifiedEpoch === null) &&
    (!values.deletable || b.deletable) &&
    (!values.permanent || !b.deletable) &&
    (blobId === undefined || blobIdToString(b.blobId) === blobId) &&
    (before === undefined || b.storage.endEpoch < before) &&
    (min === undefined || b.size >= min) &&
    (max === undefined || b.size <= max);
}

/**
 * Runs one client command. Resolves to the exit code; `usageError` builds the error main.ts
 * reports with exit code 2.
 */
export async function clientCommand(
  command: string,
  argv: string[],
  usageError: (m: string) => Error,
  signal?: AbortSignal,
): Promise<number> {
  const { values, positionals } = parse(command, argv);
  if (positionals.length > 0 && !['store', 'read', 'blob-status', 'info'].includes(command))
    throw usageError(`${command} takes no positional arguments (got ${JSON.stringify(positionals[0])})`);
  switch (command) {
    case 'store': {
      if (positionals.length === 0) throw usageError('store needs at least one file');
      if (values.permanent && values.deletable) throw usageError('choose one of --permanent and --deletable');
      if (values.epochs === undefined) throw usageError('--epochs is required');
      const encrypt = await encryptionFromFlags(values, usageError);
      const encoding = storeEncoding(values.encoding, usageError);
      const { chain, wallet } = await session(values);
      const state = await chain.systemState();
      // The real range, checked before anything is encoded or paid for.
      const epochs = epochsArg(values.epochs, state.maxEpochsAhead, 'epochs ahead, as this chain allows');
      // A committee the encoding cannot serve is refused before any file is read or paid for.
      if (state.nShards > encoding.maxShards)
        throw usageError(
          `--encoding ${encoding.name.toLowerCase()} supports committees of ${encoding.minShards}…${encoding.maxShards} shards; this network has ${state.nShards}`,
        );
      const results: Record<string, unknown>[] = [];
      let failures = 0;
      for (const path of positionals) {
        const p = progressLine(!values.json);
        const onProgress = (e: StoreProgress) => {
          if (e.phase === 'encode' && e.bytesTotal) p.show(`${path}: encode ${bar(e.bytesDone ?? 0, e.bytesTotal)}`);
          else if (e.phase === 'upload' && e.sliversTotal)
            p.show(
              `${path}: upload ${bar(e.sliversStored ?? 0, e.sliversTotal)} shards confirmed ${e.confirmedWeight}/${e.sliversTotal / 2} (quorum ${e.quorumWeight})`,
            );
          else p.show(`${path}: ${e.phase}…`, true);
        };
        // One file failing must not hide the blob IDs of those already stored (and paid for).
        try {
          const options = { chain, signer: wallet, epochs, deletable: !values.permanent, encoding, signal, onProgress, encrypt };
          // Large files are stream-encoded to a temporary sliver directory: bounded memory.
          const r =
            (await stat(path)).size > STREAM_STORE_BYTES
              ? await storeFile(path, options)
              : await storeBlob(new Uint8Array(await readFile(path)), options);
          p.show(`${path}: certified; finishing uploads to the remaining nodes…`, true);
          // The blob is certified; give the other nodes their slivers, but not forever.
          const timer = setTimeout(r.cancelBackground, BACKGROUND_WAIT_MS);
          const bg = await r.background;
          clearTimeout(timer);
          results.push({
            path,
            blobId: r.blobId,
            blobObjectId: r.blobObjectId,
            size: r.unencodedLength,
            endEpoch: r.endEpoch,
            deletable: r.deletable,
            cost: r.cost.toString(),
            reused: r.reused,
            storageReused: r.storageReused,
            ...(encrypt ? { encryption: { format: 'age-v1', recipients: encrypt.recipients.length } } : {}),
            confirmedNodes: bg.confirmedNodes,
            failedNodes: bg.failedNodes,
            timings: Object.fromEntries(Object.entries(r.timings).map(([k, v]) => [k, Math.round(v)])),
          });
        } catch (e) {
          const paid = paidRegistration(e);
          if (paid) {
            // Money was spent before the failure: say so, and that a re-run picks the registration up.
            process.stderr.write(
              `tusk: ${path}: registered as ${paid.blobObjectId} (paid ${formatWal(paid.cost)} WAL) before the failure; run the same store again to resume with it — nothing is paid twice\n`,
            );
          }
          if (signal?.aborted || positionals.length === 1) throw e;
          failures++;
          const message = describeFileError(e) ?? (e as Error).message;
          results.push({
            path,
            error: message,
            ...(paid ? { registeredBlobObjectId: paid.blobObjectId, cost: paid.cost.toString() } : {}),
          });
          process.stderr.write(`tusk: ${path}: ${message}\n`);
        } finally {
          p.clear();
        }
      }
      // One JSON shape whatever the number of files: {"blobs":[…]}, failed files with "error".
      print(
        values.json,
        { blobs: results },
        results
          .map((r) =>
            r.error !== undefined
              ? `${r.path}\n  FAILED: ${r.error}`
              : `${r.path}\n  blob ID:        ${r.blobId}\n  object ID:      ${r.blobObjectId}\n  size:           ${r.size} bytes\n  end epoch:      ${r.endEpoch}${r.deletable ? ' (deletable)' : ' (permanent)'}\n  cost:           ${formatWal(BigInt(r.cost as string))} WAL${r.reused ? ' (reused an earlier registration)' : r.storageReused ? ` (reused owned storage ${r.storageReused})` : ''}` +
                ((r.failedNodes as { nodeId: string; error: string }[]).length > 0
                  ? `\n  nodes failed:   ${(r.failedNodes as { nodeId: string; error: string }[]).map((f) => `${f.nodeId}: ${f.error}`).join('\n                  ')}`
                  : ''),
          )
          .join('\n'),
      );
      if (failures > 0) return 1;
      return 0;
    }
    case 'read': {
      const id = parseBlobIdArg(onePositional(positionals, 'blob ID', 'read', usageError));
      // --range selects bytes of the blob, or of its plaintext when decrypting; either way only
      // the slivers covering it are downloaded (src/client/read-range.ts).
      const range = values.range === undefined ? undefined : parseRange(values.range, usageError);
      const decrypt = await decryptionFromFlags({ ...values, range: undefined }, usageError);
      if (decrypt && values.raw) throw usageError('--raw keeps the ciphertext: do not combine it with -i/--passphrase-file');
      const out = values.out;
      if (values.json && out !== undefined && outputDescriptor(out) === 1)
        throw usageError('--json and --out - both write to stdout: give --out a file, or leave out --json');
      if (values.force && out === undefined) throw usageError('--force needs --out <file>');
      const { chain } = await chainFromConfig(values);
      const p = progressLine(!values.json);
      // Without identities an age-encrypted blob is refused (unless --raw): printing ciphertext by accident helps nobody.
      const refuseCiphertext = (bytes: Uint8Array) => {
        if (decrypt || values.raw || !isAgeEncrypted(bytes)) return;
        let types = 'armored';
        try {
          if (headerLength(bytes) >= 0) types = [...new Set(parseHeader(bytes).stanzas.map((st) => st.type))].join(', ');
        } catch {
          /* reported as unknown below */
        }
        throw new TuskInputError(
          `blob ${blobIdToString(id)} is age-encrypted (recipient stanzas: ${types}); pass -i <identity file> or --passphrase-file <f> to decrypt it, or --raw for the ciphertext`,
        );
      };
      const headOf = async (file: string): Promise<Uint8Array> => {
        const fh = await open(file, 'r');
        try {
          const head = Buffer.alloc(4096);
          const { bytesRead } = await fh.read(head, 0, head.length, 0);
          return head.subarray(0, bytesRead);
        } finally {
          await fh.close();
        }
      };
      if (range) {
        const reader = new BlobReader({ chain });
        const target = out ?? '-';
        if (values.json && outputDescriptor(target) === 1)
          throw usageError('--range with --json needs --out <file> (the bytes and the JSON would share stdout)');
        if (!decrypt && !values.raw) refuseCiphertext(await readBlobRange(id, { start: 0, end: 4096 }, { chain, signal, reader }));
        if (out === undefined && process.stdout.isTTY) {
          // A terminal: text is shown, binary data (which would garble it) only with --out -.
          const bytes = await readBlobRange(
            id,
            { start: range.start, end: Math.min(range.end ?? Infinity, range.start + TTY_RANGE_MAX) },
            {
              chain,
              signal,
              reader,
              decrypt,
            },
          );
          if (looksBinary(bytes.subarray(0, 8192)) || (range.end ?? Infinity) > range.start + TTY_RANGE_MAX)
            throw usageError(
              `the range is binary data or larger than ${TTY_RANGE_MAX} bytes; not writing it to a terminal. Use --out <file>, or --out - to write it anyway`,
            );
          process.stdout.write(bytes);
          return 0;
        }
        const r = await readBlobRangeToFile(id, target, range, { chain, signal, overwrite: values.force, decrypt, reader });
        const what = `${r.bytes} bytes (bytes ${r.start}-${r.end - 1} of ${r.size}${decrypt ? ' plaintext' : ''})`;
        if (outputDescriptor(target) === 1) process.stderr.write(`${what} written to stdout\n`);
        else
          print(
            values.json,
            { blobId: r.blobId, out: target, size: r.bytes, start: r.start, end: r.end, totalSize: r.size },
            `${what} written to ${target}`,
          );
        return 0;
      }
      const onProgress = (e: ReadProgress) =>
        e.phase === 'download' ? p.show(`download ${bar(e.slivers ?? 0, e.needed ?? 1)}`) : p.show(`${e.phase}…`, true);
      try {
        if (out !== undefined) {
          const r = await readBlobToFile(id, out, { chain, overwrite: values.force, signal, onProgress, decrypt });
          p.clear();
          if (!decrypt && !values.raw && outputDescriptor(out) === null && (await stat(out)).isFile()) {
            // A regular file written without identities: an age-encrypted blob is refused (and
            // removed). A FIFO or device is not read back (that would block or consume it).
            try {
              refuseCiphertext(await headOf(out));
            } catch (e) {
              await rm(out, { force: true });
              throw e;
            }
          }
          // With the blob on stdout (--out -), the summary goes to stderr.
          if (outputDescriptor(out) === 1) process.stderr.write(`${r.bytes} bytes written to stdout\n`);
          else
            print(
              values.json,
              { blobId: r.blobId, out, size: r.bytes, axis: r.axis, rejectedSlivers: r.rejected },
              `${r.bytes} bytes written to ${out}`,
            );
        } else if (values.json) {
          // Inline base64 only for small blobs (checked from the metadata, before any download).
          const dir = await makeTempDir('out');
          try {
            const file = join(dir, 'blob');
            await readBlobToFile(id, file, { chain, signal, onProgress, maxBytes: JSON_INLINE_MAX, decrypt }).catch((e) => {
              throw /more than the \d+ allowed/.test((e as Error).message)
                ? usageError(`${(e as Error).message.replace(/ allowed here$/, '')} bytes --json inlines; use --out <file>`)
                : e;
            });
            p.clear();
            const bytes = await readFile(file);
            refuseCiphertext(bytes.subarray(0, 4096));
            print(true, { blobId: blobIdToString(id), size: bytes.length, base64: bytes.toString('base64') }, '');
          } finally {
            await rm(dir, { recursive: true, force: true });
          }
        } else if (process.stdout.isTTY) {
          // A terminal: text is shown, binary data (which would garble it) only with --out -.
          const dir = await makeTempDir('out');
          try {
            const file = join(dir, 'blob');
            const r = await readBlobToFile(id, file, { chain, signal, onProgress, decrypt });
            p.clear();
            refuseCiphertext(await headOf(file));
            const head = Buffer.alloc(Math.min(8192, r.bytes));
            const fh = await open(file, 'r');
            try {
              await fh.read(head, 0, head.length, 0);
            } finally {
              await fh.close();
            }
            if (looksBinary(head))
              throw usageError(
                `blob ${r.blobId} is binary data (${r.bytes} bytes); not writing it to a terminal. Use --out <file>, or --out - to write it anyway`,
              );
            await copyToDescriptor(file, 1);
          } finally {
            await rm(dir, { recursive: true, force: true });
          }
        } else {
          // A pipe or file: streamed from the verified temporary copy, never held in memory.
          // (Without identities, a piped age-encrypted blob is passed through as it is: the
          // reader asked for the bytes, and `age -d` downstream is a valid use.)
          await readBlobToFile(id, '-', { chain, signal, onProgress, decrypt });
        }
      } finally {
        p.clear();
      }
      return 0;
    }
    case 'blob-status': {
      const id = parseBlobIdArg(onePositional(positionals, 'blob ID', 'blob-status', usageError));
      const { chain } = await chainFromConfig(values);
      const [state, objects] = await Promise.all([chain.systemState(), chain.blobObjects(id)]);
      const live = objects.filter((b) => b.storage.endEpoch > state.epoch);
      const certified = live.filter((b) => b.certifiedEpoch !== null);
      const status = certified.some((b) => !b.deletable)
        ? 'permanent'
        : certified.length > 0
          ? 'deletable'
          : live.length > 0
            ? 'registered'
            : objects.length > 0
              ? 'expired'
              : 'nonexistent';
      const endEpoch = certified.reduce((m, b) => Math.max(m, b.storage.endEpoch), 0) || null;
      const expiredAt = status === 'expired' ? Math.max(...objects.map((b) => b.storage.endEpoch)) : null;
      const when = endEpoch ? ` until epoch ${endEpoch}` : expiredAt !== null ? ` at epoch ${expiredAt}` : '';
      print(
        values.json,
        { blobId: blobIdToString(id), status, epoch: state.epoch, endEpoch, expiredEpoch: expiredAt, objects: objects.map(blobJson) },
        `${blobIdToString(id)}: ${status}${when} (current epoch ${state.epoch}; ${objects.length} Blob object(s))`,
      );
      return 0;
    }
    case 'list-blobs': {
      const { chain, wallet } = await session(values);
      const [state, owned] = await Promise.all([chain.systemState(), chain.ownedObjects(wallet.toSuiAddress())]);
      const keep = listBlobsFilter(values, state.epoch, usageError);
      const blobs = owned.flatMap((o) => (o.kind === 'blob' ? [o.object] : [])).filter(keep);
      print(
        values.json,
        { blobs: blobs.map(blobJson) },
        blobs.length === 0
          ? 'no blobs'
          : blobs
              .map(
                (b) =>
                  `${blobIdToString(b.blobId)}  ${b.id}  ${b.size} B  ${b.storage.endEpoch <= state.epoch ? `expired at ${b.storage.endEpoch}` : `${b.certifiedEpoch === null ? 'registered' : 'certified'}  until ${b.storage.endEpoch}`}${b.deletable ? '  deletable' : ''}`,
              )
              .join('\n'),
      );
      return 0;
    }
    case 'list-storage': {
      // Storage objects the wallet owns (e.g. returned by `delete`): `store` reuses a fitting one.
      const { chain, wallet } = await session(values);
      const [state, owned] = await Promise.all([chain.systemState(), chain.ownedObjects(wallet.toSuiAddress())]);
      const storage = owned
        .flatMap((o) => (o.kind === 'storage' ? [o.object] : []))
        .filter((s) => values['include-expired'] || s.endEpoch > state.epoch);
      print(
        values.json,
        { storage: storage.map((s) => ({ objectId: s.id, startEpoch: s.startEpoch, endEpoch: s.endEpoch, storageSize: s.storageSize })) },
        storage.length === 0
          ? 'no storage resources'
          : storage.map((s) => `${s.id}  ${s.storageSize} B  epochs ${s.startEpoch}…${s.endEpoch - 1}`).join('\n'),
      );
      return 0;
    }
    case 'extend': {
      const id = oneObjectId(values, 'extend');
      // --epochs-extended: the Walrus CLI's name for it.
      const rawEpochs = values.epochs ?? values['epochs-extended'];
      if (rawEpochs === undefined) throw usageError('--epochs is required');
      const { chain, wallet } = await session(values);
      const [state, blob] = await Promise.all([chain.systemState(), chain.getBlob(id)]);
      if (blob === null) throw usageError(`no Blob object ${id} on chain (deleted, burnt, or never created)`);
      // Storage may end at most maxEpochsAhead after the current epoch.
      const epochs = epochsArg(
        rawEpochs,
        state.epoch + state.maxEpochsAhead - blob.storage.endEpoch,
        `more epochs after ${blob.storage.endEpoch}, up to epoch ${state.epoch + state.maxEpochsAhead}`,
      );
      const r = await chain.extendBlob(wallet, id, epochs);
      print(
        values.json,
        { blobObjectId: id, endEpoch: r.blob.storage.endEpoch, digest: r.digest },
        `extended to epoch ${r.blob.storage.endEpoch}`,
      );
      return 0;
    }
    case 'delete': {
      const id = oneObjectId(values, 'delete');
      const { chain, wallet } = await session(values);
      const r = await chain.deleteBlob(wallet, id);
      print(
        values.json,
        { blobObjectId: id, storageId: r.storage.id, digest: r.digest },
        `deleted; storage ${r.storage.id} returned to the wallet`,
      );
      return 0;
    }
    case 'info': {
      const section = positionals.length ? onePositional(positionals, 'section', 'info', usageError) : undefined;
      if (section !== undefined && !(INFO_SECTIONS as readonly string[]).includes(section))
        throw usageError(`info: unknown section ${JSON.stringify(section)} (one of ${INFO_SECTIONS.join(', ')})`);
      const { chain } = await chainFromConfig(values);
      const withNodes = section === 'all' || section === 'committee' || section === 'challenges';
      const withChallenges = section === 'all' || section === 'challenges';
      const [s, nodes, challenges] = await Promise.all([
        chain.systemState(),
        withNodes ? chain.nodes() : [],
        withChallenges ? challengeSummaryOf(chain) : null,
      ]);
      if (section !== undefined) {
        const x = infoSections(s, nodes, Date.now(), challenges);
        const parts =
          section === 'all'
            ? (['epoch', 'storage', 'size', 'price', 'committee', 'bft', 'challenges'] as const)
            : [section as Exclude<InfoSection, 'all'>];
        const key = {
          epoch: 'epochInfo',
          storage: 'storageInfo',
          size: 'sizeInfo',
          price: 'priceInfo',
          committee: 'committeeInfo',
          bft: 'bftInfo',
          challenges: 'challengeInfo',
        } as const;
        print(
          values.json,
          section === 'all' ? x : x[key[section as Exclude<InfoSection, 'all'>]],
          parts.map((p) => infoSectionText(p, x, formatWal)).join('\n'),
        );
        return 0;
      }
      const cfg = s.committee.members.length ? new EncodingConfig(s.nShards) : null;
      const maxBlob = cfg?.maxBlobSize ?? null;
      // Tusk's summary fields, then Walrus's default sections (`walrus info` prints these four).
      const { epochInfo, storageInfo, sizeInfo, priceInfo } = infoSections(s, nodes);
      const info = {
        epoch: s.epoch,
        epochState: s.epochState,
        nShards: s.nShards,
        nodes: s.committee.members.length,
        maxEpochsAhead: s.maxEpochsAhead,
        storagePricePerUnitSize: s.storagePricePerUnitSize.toString(),
        writePricePerUnitSize: s.writePricePerUnitSize.toString(),
        maxBlobSize: maxBlob,
        costOf1MiBFor1Epoch: storageCost(1 << 20, 1, s.nShards, s.storagePricePerUnitSize, s.writePricePerUnitSize).toString(),
        committee: s.committee.members.map((m) => ({
          nodeId: m.nodeId,
          name: m.name,
          networkAddress: m.networkAddress,
          shards: m.shards.length,
        })),
        epochInfo,
        storageInfo,
        sizeInfo,
        priceInfo,
      };
      print(
        values.json,
        info,
        [
          `epoch ${s.epoch} (${s.epochState}), ${s.nShards} shards on ${info.nodes} nodes, up to ${s.maxEpochsAhead} epochs ahead`,
          `prices: storage ${formatWal(s.storagePricePerUnitSize)} WAL per MiB-unit per epoch, write ${formatWal(s.writePricePerUnitSize)} WAL per MiB-unit`,
          `storing 1 MiB for 1 epoch costs ${formatWal(BigInt(info.costOf1MiBFor1Epoch))} WAL${maxBlob ? `; max blob ${maxBlob} bytes` : ''}`,
          ...info.committee.map((m) => `  ${m.name.padEnd(12)} ${m.shards} shards  ${m.networkAddress}  ${m.nodeId}`),
        ].join('\n'),
      );
      return 0;
    }
    case 'stake': {
      const nodeId = parseObjectIdArg(values['node-id'], '--node-id');
      if (!values.amount) throw usageError('stake needs --amount <WAL>');
      let amount: bigint;
      try {
        amount = parseWal(values.amount);
      } catch (e) {
        throw usageError(`--amount: ${(e as Error).message}`);
      }
      const { chain, wallet } = await session(values);
      const r = await chain.stake(wallet, nodeId, amount);
      print(
        values.json,
        { stakedWalId: r.stakedWal.id, nodeId, amount: amount.toString(), activationEpoch: r.stakedWal.activationEpoch, digest: r.digest },
        `staked ${formatWal(amount)} WAL with ${nodeId} (active from epoch ${r.stakedWal.activationEpoch}); StakedWal ${r.stakedWal.id}`,
      );
      return 0;
    }
    default:
      throw usageError(`unknown command ${JSON.stringify(command)}`);
  }
}
