/**
 * `startStorageNode`: the library entry point of a Tusk storage node over any {@link Chain}.
 *
 * Start-up, in order: load (or create) the node's keys in its data directory; open its store;
 * read the system state; start the HTTP server (so the network address is known); register the
 * node on chain with a BLS proof of possession and stake on it unless it is registered already
 * (the node ID is persisted; a node whose registration went through but was not recorded before a
 * crash finds itself among the chain's nodes by its BLS key); catch up with the chain's events;
 * then follow them in the background.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Chain, DevChain, ObjectId } from '../chain/types.ts';
import { FROST_PER_WAL } from '../chain/types.ts';
import { blsSign } from '../crypto/bls.ts';
import { proofOfPossessionMessage } from '../protocol/messages.ts';
import { defaultPool } from '../pool/codec-pool.ts';
import type { TaskRunner } from '../codec/tasks.ts';
import { TuskInputError } from '../errors.ts';
import { isLoopbackHost } from '../chain/remote/server.ts';
import { equalBytes } from '../util/bytes.ts';
import { loadOrCreateKeys, type NodeKeys } from './keys.ts';
import { NodeStore } from './store.ts';
import { PoolExpander } from './pool-expander.ts';
import { NodeService, type ServiceLimits } from './service.ts';
import { EventFollower } from './follower.ts';
import { SliverScrubber, type ScrubReport } from './scrubber.ts';
import { createNodeServer } from './server.ts';
import { ChallengeResponder, isChallengeChain, type ChallengeMetrics } from './challenge-responder.ts';
import { SliverDropper } from './sliver-dropper.ts';
import type { NodeFaults } from './faults.ts';

/** Options of {@link startStorageNode}. */
export interface StorageNodeOptions {
  /** The chain (in-process LocalChain, RemoteChain, …). Not closed by the node. */
  readonly chain: Chain;
  /** The node's data directory (keys, database); created if missing. */
  readonly dataDir: string;
  /** Interface to listen on (default 127.0.0.1). */
  readonly host?: string;
  /** Port (default 0: any free port). */
  readonly port?: number;
  /** Name registered on chain (default: `tusk-node`). */
  readonly name?: string;
  /**
   * Address registered on chain (default: `host:port` on a loopback host, as Walrus nodes register
   * theirs; `http://host:port` on any other host, since the node speaks plain HTTP).
   */
  readonly networkAddress?: string;
  /** Stake (FROST) the node's own account puts on the node at first registration (default 1000 WAL). */
  readonly stake?: bigint;
  /** On a dev chain with a faucet, fund the node's account for its stake (default true). */
  readonly useFaucet?: boolean;
  /** Deterministic BLS key seed (≥ 32 bytes) for the first start (tests, dev networks). */
  readonly blsSeed?: Uint8Array;
  /** Codec pool for sliver work (default: the process-wide pool; not closed by the node). */
  readonly pool?: TaskRunner;
  /** Requests handled at once before 429 (default 256). */
  readonly maxInFlight?: number;
  /** Request-body bytes admitted at once before new uploads get 503 (default 512 MiB). */
  readonly maxBodyBytesInFlight?: number;
  /** Service limits (queued verifications, pending buffer, long-poll cap). */
  readonly limits?: Partial<ServiceLimits>;
  /** Event long-poll wait (ms, default 1000). */
  readonly eventWaitMs?: number;
  /** After a certification event, how long to wait for the writer's uploads before fetching missing slivers from peers (default 10 000 ms). */
  readonly blobSyncDelayMs?: number;
  /** Slivers the background scrubber re-verifies per second (default 20; 0 turns it off). */
  readonly scrubSliversPerSecond?: number;
  /**
   * Answer the chain's storage challenges (default true; only chains that run them, such as the
   * local chain and its server, have any). See ./challenge-responder.ts.
   */
  readonly challenges?: boolean;
  /** Fallback poll of the chain's challenge rounds, ms (default 5000; round starts also arrive as events). */
  readonly challengePollMs?: number;
  /** Injected faults (./faults.ts; `tusk node run --fault`): drop, late, lie. Default none. */
  readonly faults?: NodeFaults;
  /** Non-fatal errors of the background follower (default: stderr). */
  readonly onError?: (error: unknown) => void;
  /** What the node did: epoch changes, shard recoveries, refused peers (default: none). */
  readonly onLog?: (line: string) => void;
}

/** A running node. */
export interface StorageNodeHandle {
  /** Base URL of the REST API, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  readonly nodeId: ObjectId;
  /** The node's Sui address (operator). */
  readonly address: string;
  /** 48-byte compressed BLS public key. */
  readonly publicKey: Uint8Array;
  /** The node's service (state queries for tests and tools). */
  readonly service: NodeService;
  /** Applies every event available now (tests use it to wait for a registration to be seen). */
  sync(): Promise<void>;
  /** Resolves when the background shard recovery (if one runs) has ended. */
  recovered(): Promise<void>;
  /** Verifies every stored sliver now and rebuilds rotten ones from peers (the background scrubber's work, at once). */
  scrubNow(): Promise<ScrubReport>;
  /** The node's storage-challenge record (null when it does not answer challenges). */
  challenges(): ChallengeMetrics | null;
  /** Fault injection: deletes the drop fault's slivers now (null without a drop fault). */
  dropNow(): number | null;
  /** Stops the server and the follower and closes the store. Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_STAKE = 1000n * FROST_PER_WAL;

function isDevChain(chain: Chain): chain is DevChain {
  return typeof (chain as Partial<DevChain>).requestFaucet === 'function';
}

/**
 * Starts a storage node. Post: the server listens, the node is registered (and staked on first
 * start) and has applied the chain's events up to now.
 * @throws TuskInputError for bad options; chain errors from registration (the node is stopped).
 */
export async function startStorageNode(options: StorageNodeOptions): Promise<StorageNodeHandle> {
  if (!options || typeof options.dataDir !== 'string' || options.dataDir === '')
    throw new TuskInputError('startStorageNode: dataDir is required');
  if (!options.chain) throw new TuskInputError('startStorageNode: chain is required');
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TuskInputError(`port must be 0…65535, got ${port}`);
  const stake = options.stake ?? DEFAULT_STAKE;
  if (typeof stake !== 'bigint' || stake < 0n) throw new TuskInputError('stake must be a non-negative bigint (FROST)');
  const { chain } = options;

  // The store's exclusive lock is taken BEFORE the keys are read or created: two processes started
  // on a new directory would otherwise each generate keys, and one could register a key the other
  // then overwrites. The loser fails here without touching the key files.
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const store = NodeStore.open(join(options.dataDir, 'node.db'));
  let keys: NodeKeys;
  try {
    keys = loadOrCreateKeys(options.dataDir, options.blsSeed);
  } catch (e) {
    store.close();
    throw e;
  }
  const expander = new PoolExpander(options.pool ?? defaultPool());
  const service = new NodeService(store, expander, keys.bls, options.limits);
  let app: FastifyInstance | undefined;
  let follower: EventFollower | undefined;
  let stopScrubber: () => Promise<void> = async () => {};
  let responder: ChallengeResponder | undefined;
  let dropper: SliverDropper | undefined;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await responder?.stop();
    dropper?.stop();
    await stopScrubber();
    await follower?.stop();
    service.close();
    await app?.close();
    expander.close();
    store.close();
  };

  try {
    const state = await chain.systemState();
    service.setShardCount(state.nShards);
    let nodeId: string | null = store.getValue('nodeId');
    if (options.faults?.drop !== undefined)
      dropper = new SliverDropper({ store, fraction: options.faults.drop, nodeId: () => nodeId, onLog: options.onLog });
    if ((options.challenges ?? true) && isChallengeChain(chain))
      responder = new ChallengeResponder({
        chain,
        store,
        service,
        nodeId: () => nodeId,
        signer: keys.sui,
        faults: options.faults,
        pollMs: options.challengePollMs,
        beforeAnswer: () => dropper?.sweep(),
        onLog: options.onLog,
        onError: options.onError,
      });
    follower = new EventFollower({
      chain,
      store,
      service,
      nodeId: () => nodeId,
      signer: keys.sui,
      waitMs: options.eventWaitMs,
      onError: options.onError,
      onLog: options.onLog,
      blobSyncDelayMs: options.blobSyncDelayMs,
      onChallengeRound: () => responder?.notify(),
    });
    app = createNodeServer(service, state.nShards, {
      maxInFlight: options.maxInFlight,
      maxBodyBytesInFlight: options.maxBodyBytesInFlight,
      nodeId: () => nodeId,
      eventsPending: () => follower?.lag ?? 0,
      onLog: options.onLog,
      missingSlivers: () => follower?.missingSlivers() ?? 0,
      challenges: () => responder?.metrics() ?? null,
    });
    const host = options.host ?? '127.0.0.1';
    await app.listen({ host, port });
    const addr = app.server.address();
    if (!addr || typeof addr === 'string') throw new TuskInputError('server did not bind a TCP port');
    const hostPart = host.includes(':') ? `[${host}]` : host;
    const url = `http://${hostPart}:${addr.port}`;
    // On chain, Walrus nodes register `host:port` and clients add the scheme (the official SDK its
    // `storageNodeUrlScheme`, Tusk's client http for loopback, https otherwise: normalizeNodeUrl).
    // A Tusk node speaks plain HTTP, so on a non-loopback host it keeps the explicit http:// URL.
    const networkAddress = options.networkAddress ?? (isLoopbackHost(host) ? `${hostPart}:${addr.port}` : url);

    nodeId = await ensureRegistered(chain, store, keys, {
      name: options.name ?? 'tusk-node',
      networkAddress,
      stake,
      useFaucet: options.useFaucet ?? true,
      epoch: state.epoch,
    });
    // Catch up before reporting ready, so the node knows its shards and the blobs registered so far.
    while ((await follower.syncOnce(0)) > 0) {
      /* next page */
    }
    // Recovery of held shards runs in the background: at once when the last run for the current
    // epoch did not complete (crash, node down across epoch changes); else only the sync report.
    const epoch = store.currentEpoch();
    if (epoch !== null) follower.startRecovery(epoch);
    follower.start();
    const scrubber = new SliverScrubber({
      store,
      expander: service.expander,
      nShards: () => service.nShards,
      repair: (ids) => follower!.repairBlobs(ids),
      sliversPerSecond: options.scrubSliversPerSecond,
      onError: options.onError,
    });
    stopScrubber = () => scrubber.stop();
    if ((options.scrubSliversPerSecond ?? 20) > 0) scrubber.start();
    dropper?.start();
    responder?.start();
    return {
      url,
      nodeId,
      address: keys.sui.toSuiAddress(),
      publicKey: keys.bls.publicKey,
      service,
      async sync() {
        while ((await follower!.syncOnce(0)) > 0) {
          /* next page */
        }
      },
      recovered: () => follower!.recovered(),
      scrubNow: () => scrubber.scrubOnce(),
      challenges: () => responder?.metrics() ?? null,
      dropNow: () => dropper?.sweep() ?? null,
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/** Registers and stakes the node unless done before; keeps its network address current. */
async function ensureRegistered(
  chain: Chain,
  store: NodeStore,
  keys: NodeKeys,
  o: { name: string; networkAddress: string; stake: bigint; useFaucet: boolean; epoch: number },
): Promise<ObjectId> {
  const address = keys.sui.toSuiAddress();
  let nodeId = store.getValue('nodeId');
  if (nodeId === null) {
    // A registration that succeeded before a crash, but was not recorded, is found by its key.
    const mine = (await chain.nodes()).find((n) => equalBytes(n.publicKey, keys.bls.publicKey) && n.operator === address);
    if (mine) nodeId = mine.nodeId;
  }
  if (nodeId === null) {
    await fund(chain, address, o.stake, o.useFaucet);
    const pop = blsSign(keys.bls.secretKey, proofOfPossessionMessage(o.epoch, address, keys.bls.publicKey));
    const res = await chain.registerNode(keys.sui, {
      name: o.name,
      networkAddress: o.networkAddress,
      publicKey: keys.bls.publicKey,
      proofOfPossession: pop,
      commissionRateBps: 0,
      storagePriceVote: 100_000n,
      writePriceVote: 20_000n,
      capacityVote: 1024 ** 4,
    });
    nodeId = res.nodeId;
  }
  store.setValue('nodeId', nodeId);
  if (store.getValue('staked') === null) {
    const owned = await chain.ownedObjects(address);
    const already = owned.some((o2) => o2.kind === 'stakedWal' && o2.object.nodeId === nodeId);
    if (!already && o.stake > 0n) {
      await fund(chain, address, o.stake, o.useFaucet);
      await chain.stake(keys.sui, nodeId, o.stake);
    }
    store.setValue('staked', '1');
  }
  const info = await chain.getNode(nodeId);
  if (info && info.networkAddress !== o.networkAddress) await chain.updateNode(keys.sui, nodeId, { networkAddress: o.networkAddress });
  return nodeId;
}

async function fund(chain: Chain, address: string, amount: bigint, useFaucet: boolean): Promise<void> {
  if (!useFaucet || !isDevChain(chain) || amount === 0n) return;
  const balance = await chain.balance(address);
  if (balance < amount) await chain.requestFaucet(address, amount - balance);
}
