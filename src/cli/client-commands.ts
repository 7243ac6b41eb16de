/**
 * The client commands of `tusk`, in the spirit of the Walrus CLI: store, read, blob-status,
 * list-blobs, extend, delete, info, stake. They read the client config (`--config`, else
 * `$TUSK_CONFIG`, else ~/.config/tusk/client.json — `tusk dev` writes one) for the chain URL and
 * the paying wallet. Output contract as everywhere in the CLI: results on stdout (one JSON object
 * with camelCase keys under --json, FROST amounts as decimal strings), errors on stderr.
 */
import { parseArgs } from 'node:util';
import { readFile, stat } from 'node:fs/promises';
import type { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { RemoteChain } from '../chain/remote/client.ts';
import type { BlobObject, Chain } from '../chain/types.ts';
import { blobIdFromString, blobIdToString } from '../codec/blob-id.ts';
import { EncodingConfig } from '../codec/config.ts';
import { encodingByName, type EncodingScheme } from '../codec/encodings/index.ts';
import { loadClientConfig, loadWallet, defaultConfigPath } from '../client/client-config.ts';
import { paidRegistration, storeBlob, storeFile, storageCost, type StoreProgress } from '../client/store-blob.ts';
import { readBlob, readBlobToFile, type ReadProgress } from '../client/read-blob.ts';
import { TuskInputError } from '../errors.ts';
import { formatWal, parseWal } from './chain-command.ts';
import { bar, intOption, onePositional, print, progressLine } from './common.ts';

/** Usage text of the client commands (main.ts appends it to its own). */
export const CLIENT_USAGE = `Client (store and read through a network; \`tusk dev\` starts a local one and writes the config):
  store <files…> --epochs N [--permanent|--deletable] [--encoding rs2|rs8]
                                        Encode, upload, certify; print blob IDs (rs8: committees ≤ 195 shards).
  read <blobId> [--out <file>]          Read a blob back (to stdout without --out).
  blob-status <blobId>                  The blob's Blob objects on chain and whether certified.
  list-blobs [--include-expired]        Blob objects owned by the wallet.
  list-storage [--include-expired]      Storage resources the wallet owns (store reuses a fitting one).
  extend --blob-obj-id <id> --epochs N  Pay for N more epochs of a certified blob.
  delete --blob-obj-id <id>             Delete a deletable blob (the storage returns to the wallet).
  info                                  Epoch, committee, prices, limits.
  stake --node-id <id> --amount <WAL>   Stake WAL with a storage node.
  Common: --config <file> (default $TUSK_CONFIG or ~/.config/tusk/client.json), --json.
`;

/** Files above this size are stored through the streaming encoder (bounded memory). */
const STREAM_STORE_BYTES = 64 * 2 ** 20;

/** How long `store` keeps uploading to the remaining nodes once the blob is certified. */
const BACKGROUND_WAIT_MS = 60_000;

const OPTIONS = {
  config: { type: 'string' },
  json: { type: 'boolean', default: false },
  epochs: { type: 'string' },
  permanent: { type: 'boolean', default: false },
  deletable: { type: 'boolean', default: false },
  out: { type: 'string' },
  force: { type: 'boolean', default: false },
  'blob-obj-id': { type: 'string' },
  'node-id': { type: 'string' },
  amount: { type: 'string' },
  'include-expired': { type: 'boolean', default: false },
  encoding: { type: 'string' },
} as const;

type Values = ReturnType<typeof parse>['values'];
function parse(args: string[]) {
  return parseArgs({ args, allowPositionals: true, options: OPTIONS });
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

/** The chain named by the client config (`--config`, else the default path). */
async function chainFromConfig(values: Values): Promise<{ chain: RemoteChain; walletPath: string }> {
  const config = await loadClientConfig(values.config ?? defaultConfigPath());
  return { chain: new RemoteChain({ url: config.chainUrl }), walletPath: config.wallet };
}

/** The chain and the paying wallet named by the client config. */
async function session(values: Values): Promise<Session> {
  const { chain, walletPath } = await chainFromConfig(values);
  return { chain, wallet: await loadWallet(walletPath) };
}


function requiredInt(raw: string | undefined, name: string, usageError: (m: string) => Error): number {
  if (raw === undefined) throw usageError(`--${name} is required`);
  return intOption(raw, name, 1, 2 ** 32 - 1)!;
}

function blobJson(b: BlobObject) {
  return {
    objectId: b.id, blobId: blobIdToString(b.blobId), size: b.size, encodingType: b.encodingType, registeredEpoch: b.registeredEpoch,
    certifiedEpoch: b.certifiedEpoch, endEpoch: b.storage.endEpoch, deletable: b.deletable, owner: b.owner, attributes: b.attributes,
  };
}

/**
 * Runs one client command. Resolves to the exit code; `usageError` builds the error main.ts
 * reports with exit code 2.
 */
export async function clientCommand(command: string, argv: string[], usageError: (m: string) => Error, signal?: AbortSignal): Promise<number> {
  const { values, positionals } = parse(argv);
  switch (command) {
    case 'store': {
      if (positionals.length === 0) throw usageError('store needs at least one file');
      if (values.permanent && values.deletable) throw usageError('choose one of --permanent and --deletable');
      const epochs = requiredInt(values.epochs, 'epochs', usageError);
      const encoding = storeEncoding(values.encoding, usageError);
      const { chain, wallet } = await session(values);
      if (encoding.name !== 'RS2') {
        // A committee the encoding cannot serve is refused before any file is read or paid for.
        const { nShards } = await chain.systemState();
        if (nShards > encoding.maxShards) throw new TuskInputError(`--encoding ${encoding.name.toLowerCase()} supports committees of ${encoding.minShards}…${encoding.maxShards} shards; this network has ${nShards}`);
      }
      const results: Record<string, unknown>[] = [];
      let failures = 0;
      for (const path of positionals) {
        const p = progressLine(!values.json);
        const onProgress = (e: StoreProgress) => {
          if (e.phase === 'encode' && e.bytesTotal) p.show(`${path}: encode ${bar(e.bytesDone ?? 0, e.bytesTotal)}`);
          else if (e.phase === 'upload' && e.sliversTotal) p.show(`${path}: upload ${bar(e.sliversStored ?? 0, e.sliversTotal)} shards confirmed ${e.confirmedWeight}/${e.sliversTotal / 2} (quorum ${e.quorumWeight})`);
          else p.show(`${path}: ${e.phase}…`, true);
        };
        // One file failing must not hide the blob IDs of those already stored (and paid for).
        try {
          const options = { chain, signer: wallet, epochs, deletable: !values.permanent, encoding, signal, onProgress };
          // Large files are stream-encoded to a temporary sliver directory: bounded memory.
          const r = (await stat(path)).size > STREAM_STORE_BYTES
            ? await storeFile(path, options)
            : await storeBlob(new Uint8Array(await readFile(path)), options);
          p.show(`${path}: certified; finishing uploads to the remaining nodes…`, true);
          // The blob is certified; give the other nodes their slivers, but not forever.
          const timer = setTimeout(r.cancelBackground, BACKGROUND_WAIT_MS);
          const bg = await r.background;
          clearTimeout(timer);
          results.push({
            path, blobId: r.blobId, blobObjectId: r.blobObjectId, size: r.unencodedLength, endEpoch: r.endEpoch, deletable: r.deletable,
            cost: r.cost.toString(), reused: r.reused, storageReused: r.storageReused, confirmedNodes: bg.confirmedNodes, failedNodes: bg.failedNodes,
            timings: Object.fromEntries(Object.entries(r.timings).map(([k, v]) => [k, Math.round(v)])),
          });
        } catch (e) {
          const paid = paidRegistration(e);
          if (paid) {
            // Money was spent before the failure: say so, and that a re-run picks the registration up.
            process.stderr.write(`tusk: ${path}: registered as ${paid.blobObjectId} (paid ${formatWal(paid.cost)} WAL) before the failure; run the same store again to resume with it — nothing is paid twice\n`);
          }
          if (signal?.aborted || positionals.length === 1) throw e;
          failures++;
          results.push({ path, error: (e as Error).message, ...(paid ? { registeredBlobObjectId: paid.blobObjectId, cost: paid.cost.toString() } : {}) });
          process.stderr.write(`tusk: ${path}: ${(e as Error).message}\n`);
        } finally {
          p.clear();
        }
      }
      print(values.json, results.length === 1 && failures === 0 ? results[0] : { blobs: results }, results.map((r) => r.error !== undefined
        ? `${r.path}\n  FAILED: ${r.error}`
        : `${r.path}\n  blob ID:        ${r.blobId}\n  object ID:      ${r.blobObjectId}\n  size:           ${r.size} bytes\n  end epoch:      ${r.endEpoch}${r.deletable ? ' (deletable)' : ' (permanent)'}\n  cost:           ${formatWal(BigInt(r.cost as string))} WAL${r.reused ? ' (reused an earlier registration)' : r.storageReused ? ` (reused owned storage ${r.storageReused})` : ''}` +
          ((r.failedNodes as { nodeId: string; error: string }[]).length > 0 ? `\n  nodes failed:   ${(r.failedNodes as { nodeId: string; error: string }[]).map((f) => `${f.nodeId}: ${f.error}`).join('\n                  ')}` : '')).join('\n'));
      if (failures > 0) return 1;
      return 0;
    }
    case 'read': {
      const id = blobIdFromString(onePositional(positionals, 'blob ID', 'read', usageError));
      const { chain } = await chainFromConfig(values);
      const p = progressLine(!values.json);
      const onProgress = (e: ReadProgress) => (e.phase === 'download' ? p.show(`download ${bar(e.slivers ?? 0, e.needed ?? 1)}`) : p.show(`${e.phase}…`, true));
      try {
        if (values.out) {
          const r = await readBlobToFile(id, values.out, { chain, overwrite: values.force, signal, onProgress });
          p.clear();
          print(values.json, { blobId: r.blobId, out: values.out, size: r.bytes, axis: r.axis, rejectedSlivers: r.rejected }, `${r.bytes} bytes written to ${values.out}`);
        } else {
          const bytes = await readBlob(id, { chain, signal, onProgress });
          p.clear();
          if (values.json) print(true, { blobId: blobIdToString(id), size: bytes.length, base64: Buffer.from(bytes).toString('base64') }, '');
          else await new Promise<void>((res, rej) => process.stdout.write(bytes, (e) => (e ? rej(e) : res())));
        }
      } finally {
        p.clear();
      }
      return 0;
    }
    case 'blob-status': {
      const id = blobIdFromString(onePositional(positionals, 'blob ID', 'blob-status', usageError));
      const { chain } = await chainFromConfig(values);
      const [state, objects] = await Promise.all([chain.systemState(), chain.blobObjects(id)]);
      const live = objects.filter((b) => b.storage.endEpoch > state.epoch);
      const certified = live.filter((b) => b.certifiedEpoch !== null);
      const status = certified.some((b) => !b.deletable) ? 'permanent' : certified.length > 0 ? 'deletable' : live.length > 0 ? 'registered' : 'nonexistent';
      const endEpoch = certified.reduce((m, b) => Math.max(m, b.storage.endEpoch), 0) || null;
      print(values.json, { blobId: blobIdToString(id), status, epoch: state.epoch, endEpoch, objects: objects.map(blobJson) },
        `${blobIdToString(id)}: ${status}${endEpoch ? ` until epoch ${endEpoch}` : ''} (current epoch ${state.epoch}; ${objects.length} Blob object(s))`);
      return 0;
    }
    case 'list-blobs': {
      const { chain, wallet } = await session(values);
      const [state, owned] = await Promise.all([chain.systemState(), chain.ownedObjects(wallet.toSuiAddress())]);
      const blobs = owned.flatMap((o) => (o.kind === 'blob' ? [o.object] : [])).filter((b) => values['include-expired'] || b.storage.endEpoch > state.epoch);
      print(values.json, { blobs: blobs.map(blobJson) }, blobs.length === 0 ? 'no blobs' : blobs.map((b) =>
        `${blobIdToString(b.blobId)}  ${b.id}  ${b.size} B  ${b.certifiedEpoch === null ? 'registered' : 'certified'}  until ${b.storage.endEpoch}${b.deletable ? '  deletable' : ''}`).join('\n'));
      return 0;
    }
    case 'list-storage': {
      // Storage objects the wallet owns (e.g. returned by `delete`): `store` reuses a fitting one.
      const { chain, wallet } = await session(values);
      const [state, owned] = await Promise.all([chain.systemState(), chain.ownedObjects(wallet.toSuiAddress())]);
      const storage = owned.flatMap((o) => (o.kind === 'storage' ? [o.object] : [])).filter((s) => values['include-expired'] || s.endEpoch > state.epoch);
      print(values.json, { storage: storage.map((s) => ({ objectId: s.id, startEpoch: s.startEpoch, endEpoch: s.endEpoch, storageSize: s.storageSize })) },
        storage.length === 0 ? 'no storage resources' : storage.map((s) => `${s.id}  ${s.storageSize} B  epochs ${s.startEpoch}…${s.endEpoch - 1}`).join('\n'));
      return 0;
    }
    case 'extend': {
      const id = values['blob-obj-id'];
      if (!id) throw usageError('extend needs --blob-obj-id <id>');
      const epochs = requiredInt(values.epochs, 'epochs', usageError);
      const { chain, wallet } = await session(values);
      const r = await chain.extendBlob(wallet, id, epochs);
      print(values.json, { blobObjectId: id, endEpoch: r.blob.storage.endEpoch, digest: r.digest }, `extended to epoch ${r.blob.storage.endEpoch}`);
      return 0;
    }
    case 'delete': {
      const id = values['blob-obj-id'];
      if (!id) throw usageError('delete needs --blob-obj-id <id>');
      const { chain, wallet } = await session(values);
      const r = await chain.deleteBlob(wallet, id);
      print(values.json, { blobObjectId: id, storageId: r.storage.id, digest: r.digest }, `deleted; storage ${r.storage.id} returned to the wallet`);
      return 0;
    }
    case 'info': {
      const { chain } = await chainFromConfig(values);
      const s = await chain.systemState();
      const cfg = s.committee.members.length ? new EncodingConfig(s.nShards) : null;
      const maxBlob = cfg?.maxBlobSize ?? null;
      const info = {
        epoch: s.epoch, epochState: s.epochState, nShards: s.nShards, nodes: s.committee.members.length, maxEpochsAhead: s.maxEpochsAhead,
        storagePricePerUnitSize: s.storagePricePerUnitSize.toString(), writePricePerUnitSize: s.writePricePerUnitSize.toString(),
        maxBlobSize: maxBlob, costOf1MiBFor1Epoch: storageCost(1 << 20, 1, s.nShards, s.storagePricePerUnitSize, s.writePricePerUnitSize).toString(),
        committee: s.committee.members.map((m) => ({ nodeId: m.nodeId, name: m.name, networkAddress: m.networkAddress, shards: m.shards.length })),
      };
      print(values.json, info, [
        `epoch ${s.epoch} (${s.epochState}), ${s.nShards} shards on ${info.nodes} nodes, up to ${s.maxEpochsAhead} epochs ahead`,
        `prices: storage ${formatWal(s.storagePricePerUnitSize)} WAL per MiB-unit per epoch, write ${formatWal(s.writePricePerUnitSize)} WAL per MiB-unit`,
        `storing 1 MiB for 1 epoch costs ${formatWal(BigInt(info.costOf1MiBFor1Epoch))} WAL${maxBlob ? `; max blob ${maxBlob} bytes` : ''}`,
        ...info.committee.map((m) => `  ${m.name.padEnd(12)} ${m.shards} shards  ${m.networkAddress}  ${m.nodeId}`),
      ].join('\n'));
      return 0;
    }
    case 'stake': {
      const nodeId = values['node-id'];
      if (!nodeId) throw usageError('stake needs --node-id <id>');
      if (!values.amount) throw usageError('stake needs --amount <WAL>');
      const amount = parseWal(values.amount);
      const { chain, wallet } = await session(values);
      const r = await chain.stake(wallet, nodeId, amount);
      print(values.json, { stakedWalId: r.stakedWal.id, nodeId, amount: amount.toString(), activationEpoch: r.stakedWal.activationEpoch, digest: r.digest },
        `staked ${formatWal(amount)} WAL with ${nodeId} (active from epoch ${r.stakedWal.activationEpoch}); StakedWal ${r.stakedWal.id}`);
      return 0;
    }
    default:
      throw usageError(`unknown command ${JSON.stringify(command)}`);
  }
}


