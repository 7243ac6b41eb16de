/**
 * A local Walrus-style network on one machine: the local chain and N storage nodes, each a
 * separate `tusk` process on loopback, plus a funded development wallet and a client config.
 *
 * Layout of the data directory (state persists, so a restart resumes where it stopped):
 *
 *   <dir>/network.json     ports and sizes chosen on the first start (reused on restarts)
 *   <dir>/chain/           the chain's SQLite database
 *   <dir>/node-<i>/        each node's keys, sliver store and event cursor
 *   <dir>/wallet.key       the development wallet (suiprivkey, mode 0600)
 *   <dir>/wallet.funded    written once the faucet funded the wallet (the first start only)
 *   <dir>/client.json      the client config (chain URL + wallet) for `tusk store/read …`
 *   <dir>/logs/<name>.log  each process's stderr
 *
 * Ports are fixed on the first start because nodes publish their address on chain. Before each
 * process starts, its port is probed; a busy one is reported with the PID and command line of the
 * process holding it (./port-owner.ts).
 *
 * Children never outlive this process: each gets `--exit-with-parent` and a stdin pipe that is
 * never written, so however this process dies (SIGKILL included) the kernel closes the pipe and
 * the children stop on their own (src/cli/parent-watch.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { access, mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { RemoteChain } from '../chain/remote/client.ts';
import { FROST_PER_WAL } from '../chain/types.ts';
import { ensureWallet, writeClientConfig, type ClientSuiConfig } from '../client/client-config.ts';
import { localnetPackageConfig } from '../chain/localnet/sui-client.ts';
import { TuskError, TuskInputError } from '../errors.ts';
import { sleep } from '../util/async.ts';
import { findPortOwner, probePort } from './port-owner.ts';
import { formatNodeFaults, type NodeFaults } from '../node/faults.ts';

/** Options of `startDevNetwork`. */
export interface DevNetworkOptions {
  /** Where all state lives (created if missing). */
  readonly dataDir: string;
  /** Storage nodes (default 10). Fixed on the first start. */
  readonly nodes?: number;
  /** Shards (default 100; up to 1000 is the Walrus size). Fixed on the first start. */
  readonly nShards?: number;
  readonly host?: string;
  /** Epoch duration of a new network (default 1 hour; the chain advances epochs on this clock). */
  readonly epochDurationMs?: number;
  /** Aborts start-up: every process started so far is stopped, then the signal's reason is thrown. */
  readonly signal?: AbortSignal;
  /** Where to write the client config (default `<dataDir>/client.json`). */
  readonly configPath?: string;
  /**
   * Fund the wallet with this many FROST on the first start (default 1000 WAL). A restart does not
   * fund it again (that would hide what the stores cost): it reports the balance instead.
   */
  readonly walletFunds?: bigint;
  /** Each node's self-stake in WAL (default 1000). */
  readonly stakeWal?: number;
  /** Called with progress lines ("chain up at …", "node-3 registered", …). */
  readonly onLog?: (line: string) => void;
  /** Give up starting after this long (default 120 s). */
  readonly startTimeoutMs?: number;
  /**
   * Run storage-challenge rounds (the chain server's round clock; nodes answer them). Default true.
   * Rounds come 4 times an epoch, so with the default 1-hour epochs the first one starts after 12 min.
   */
  readonly challenges?: boolean;
  /**
   * Injected faults by node index (./faults.ts, `--faults`): drop, late and lie go to the node
   * process; offline stops and restarts it on its schedule, counted from the network being up.
   */
  readonly faults?: ReadonlyMap<number, NodeFaults>;
}

/** A running local network. */
export interface DevNetwork {
  readonly dataDir: string;
  readonly chainUrl: string;
  readonly configPath: string;
  readonly walletAddress: string;
  readonly nShards: number;
  /** The Walrus SDK's view of this network (docs/localnet.md), as written into the client config. */
  readonly sui: ClientSuiConfig;
  readonly nodes: readonly { readonly name: string; readonly url: string; readonly nodeId: string; readonly pid: number }[];
  /** Stops one node process (fault tests); `startNode` brings it back on the same port and data. */
  stopNode(index: number, signal?: NodeJS.Signals): Promise<void>;
  startNode(index: number): Promise<void>;
  /**
   * Stops the chain server (fault tests: `SIGKILL` is a crash) and starts it again on the same
   * port and database; resolves once it answers. Nodes and clients reconnect on their own.
   */
  restartChain(signal?: NodeJS.Signals): Promise<void>;
  /** Stops every process (SIGTERM, then SIGKILL after 10 s). Idempotent. */
  stop(): Promise<void>;
}

interface Layout {
  readonly version: 1;
  readonly nodes: number;
  readonly nShards: number;
  readonly chainPort: number;
  readonly nodePorts: number[];
}

const TUSK_BIN = fileURLToPath(new URL('../../bin/tusk.js', import.meta.url));

/** FROST as WAL for log lines (up to 9 decimals, trailing zeros trimmed). */
function formatFrost(frost: bigint): string {
  const frac = (frost % FROST_PER_WAL).toString().padStart(9, '0').replace(/0+$/, '');
  return `${frost / FROST_PER_WAL}${frac ? '.' + frac : ''}`;
}

/** A free TCP port on `host` (bound and released; fine on a machine we own, retried on clash). */
async function freePort(host: string): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, host, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

async function loadLayout(dir: string, o: DevNetworkOptions, host: string): Promise<Layout> {
  const file = join(dir, 'network.json');
  try {
    const layout = JSON.parse(await readFile(file, 'utf8')) as Layout;
    if (o.nodes !== undefined && o.nodes !== layout.nodes)
      throw new TuskInputError(`${dir} holds a network of ${layout.nodes} nodes; start it without --nodes or use another data directory`);
    if (o.nShards !== undefined && o.nShards !== layout.nShards)
      throw new TuskInputError(`${dir} holds a network of ${layout.nShards} shards; use another data directory for ${o.nShards}`);
    return layout;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const nodes = o.nodes ?? 10;
  const nShards = o.nShards ?? 100;
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 100) throw new TuskInputError(`nodes must be 1…100, got ${nodes}`);
  if (!Number.isInteger(nShards) || nShards < 4 || nShards > 1000 || nShards < nodes)
    throw new TuskInputError(`n_shards must be 4…1000 and at least the node count, got ${nShards}`);
  const ports = new Set<number>();
  while (ports.size < nodes + 1) ports.add(await freePort(host));
  const [chainPort, ...nodePorts] = [...ports];
  const layout: Layout = { version: 1, nodes, nShards, chainPort, nodePorts };
  await writeFile(file, JSON.stringify(layout, null, 2) + '\n');
  return layout;
}

/**
 * Spawns `tusk <args>` and resolves with its first stdout line parsed as JSON. `onSpawn` learns
 * the child at once, so a caller can stop it even when start-up fails half-way.
 */
function spawnTusk(
  args: string[],
  logFile: string,
  timeoutMs: number,
  onSpawn: (child: ChildProcess) => void,
): Promise<{ child: ChildProcess; ready: Record<string, unknown> }> {
  return new Promise((res, rej) => {
    // stdin is the parent-death pipe (never written; see the file header). stderr goes straight
    // to the log file, not through this process, so a child still logs after this process died.
    const logFd = openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [TUSK_BIN, ...args, '--exit-with-parent'], {
        stdio: ['pipe', 'pipe', logFd],
        env: { ...process.env },
      });
    } finally {
      closeSync(logFd);
    }
    child.stdin!.on('error', () => {});
    onSpawn(child);
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new TuskError(`tusk ${args.slice(0, 2).join(' ')} did not start within ${timeoutMs} ms (see ${logFile})`));
    }, timeoutMs);
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      // Say why: the child's last log lines (its error) rather than a bare exit code.
      void logTail(logFile, 5).then((tail) => {
        rej(
          new TuskError(
            `tusk ${args.slice(0, 2).join(' ')} exited with ${signal ?? code} before it was ready${tail ? `:\n  ${tail.split('\n').join('\n  ')}\n` : ' '}(log: ${logFile})`,
          ),
        );
      });
    };
    child.once('exit', onExit);
    lines.once('line', (line) => {
      clearTimeout(timer);
      child.removeListener('exit', onExit);
      try {
        const ready = JSON.parse(line) as Record<string, unknown>;
        // Under --json a command that fails prints its error as JSON on stdout too: that line is
        // not a ready line (a node that exited at once was taken for started before this check).
        if (ready && typeof ready === 'object' && 'error' in ready) {
          const err = ready.error as { message?: string };
          child.kill('SIGKILL');
          rej(new TuskError(`tusk ${args.slice(0, 2).join(' ')} failed to start: ${err?.message ?? line} (log: ${logFile})`));
          return;
        }
        res({ child, ready });
      } catch {
        child.kill('SIGKILL');
        rej(new TuskError(`tusk ${args.slice(0, 2).join(' ')} printed ${JSON.stringify(line)} instead of its JSON ready line`));
      }
    });
  });
}

/** The last `lines` non-empty lines of `file` (at most its last 8 KiB), or '' when unreadable. */
async function logTail(file: string, lines: number): Promise<string> {
  try {
    const fh = await open(file, 'r');
    try {
      const { size } = await fh.stat();
      const length = Math.min(size, 8192);
      const buf = Buffer.alloc(length);
      await fh.read(buf, 0, length, size - length);
      return buf
        .toString('utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .slice(-lines)
        .join('\n');
    } finally {
      await fh.close();
    }
  } catch {
    return '';
  }
}

/**
 * Fails with a clear message when `port` (the `what`'s fixed port) cannot be bound on `host`,
 * naming the process that holds it.
 */
async function ensurePortFree(host: string, port: number, what: string, dir: string): Promise<void> {
  const code = await probePort(host, port);
  if (code === null) return;
  if (code !== 'EADDRINUSE') throw new TuskError(`cannot listen on ${host}:${port} for the ${what}: ${code}`);
  const owner = await findPortOwner(port);
  const who = owner
    ? `process ${owner.pid} (${owner.command.length > 160 ? owner.command.slice(0, 157) + '…' : owner.command})`
    : 'another process (its PID is not visible to this user)';
  const hint =
    owner && /tusk/.test(owner.command)
      ? `a tusk process from an earlier run still holds it; stop it (kill ${owner.pid}) and start again`
      : `stop it${owner ? ` (kill ${owner.pid})` : ''}, or use another --data-dir (ports are fixed in ${join(dir, 'network.json')})`;
  throw new TuskError(`port ${port} of the ${what} (${host}) is in use by ${who}: ${hint}`, { retryable: true });
}

async function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts (or resumes) a local network in `options.dataDir` and resolves once the committee is
 * active, the wallet funded and the client config written. On failure every started process is
 * stopped before the error propagates.
 */
export async function startDevNetwork(options: DevNetworkOptions): Promise<DevNetwork> {
  const dir = resolve(options.dataDir);
  const host = options.host ?? '127.0.0.1';
  const log = options.onLog ?? (() => {});
  const timeout = options.startTimeoutMs ?? 120_000;
  await mkdir(join(dir, 'logs'), { recursive: true });
  const layout = await loadLayout(dir, options, host);
  for (const i of options.faults?.keys() ?? [])
    if (!Number.isInteger(i) || i < 0 || i >= layout.nodes)
      throw new TuskInputError(`--faults names node-${i}, but the network in ${dir} has node-0 … node-${layout.nodes - 1}`);
  let chainChild: ChildProcess | undefined;
  const nodeChildren: (ChildProcess | undefined)[] = new Array(layout.nodes).fill(undefined);
  const nodes: { name: string; url: string; nodeId: string; pid: number }[] = [];
  let stopping = false;
  const stopAll = async () => {
    stopping = true;
    await Promise.all(nodeChildren.map((c) => stopChild(c)));
    await stopChild(chainChild);
  };
  const onAbort = () => void stopAll();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    options.signal?.throwIfAborted();
    const chainArgs = [
      'chain',
      'serve',
      '--data-dir',
      join(dir, 'chain'),
      '--host',
      host,
      '--port',
      String(layout.chainPort),
      '--n-shards',
      String(layout.nShards),
      '--epoch-duration',
      String(options.epochDurationMs ?? 3_600_000),
      '--dev-routes',
      'on',
      '--challenges',
      options.challenges === false ? 'off' : 'on',
      '--json',
    ]; // the network needs the faucet and the epoch switch
    const startChain = async () => {
      await ensurePortFree(host, layout.chainPort, 'chain', dir);
      return spawnTusk(chainArgs, join(dir, 'logs', 'chain.log'), timeout, (child) => (chainChild = child));
    };
    const c = await startChain();
    const chainUrl = String(c.ready.url);
    log(`chain up at ${chainUrl} (${layout.nShards} shards)`);
    const chain = new RemoteChain({ url: chainUrl });

    const startNode = async (i: number) => {
      const name = `node-${i}`;
      const args = [
        'node',
        'run',
        '--data-dir',
        join(dir, name),
        '--chain-url',
        chainUrl,
        '--host',
        host,
        '--port',
        String(layout.nodePorts[i]),
        '--name',
        name,
        '--stake',
        String(options.stakeWal ?? 1000),
        // A node (re)started while the chain server restarts waits for it instead of exiting.
        '--chain-wait',
        '120',
        '--json',
      ];
      const f = options.faults?.get(i);
      const nodeFault = f ? formatNodeFaults({ ...f, offline: undefined }) : '';
      if (nodeFault) args.push('--fault', nodeFault);
      await ensurePortFree(host, layout.nodePorts[i], name, dir);
      const n = await spawnTusk(args, join(dir, 'logs', `${name}.log`), timeout, (child) => (nodeChildren[i] = child));
      const info = { name, url: String(n.ready.url), nodeId: String(n.ready.nodeId), pid: n.child.pid ?? -1 };
      nodes[i] = info;
      log(`${name} up at ${info.url}`);
      // Say so when a node dies on its own (stopNode/stop clear nodeChildren first).
      n.child.once('exit', (code, sig) => {
        if (nodeChildren[i] === n.child && !stopping)
          log(`${name} exited unexpectedly (${sig ?? `code ${code}`}); see ${join(dir, 'logs', `${name}.log`)}`);
      });
      return info;
    };
    // allSettled: a failing node must not leave its siblings starting unobserved (orphans).
    const started = await Promise.allSettled(Array.from({ length: layout.nodes }, (_, i) => startNode(i)));
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    options.signal?.throwIfAborted();

    // The first start has no committee yet: end epoch 0 so the staked nodes become one.
    let state = await chain.systemState();
    const firstStart = state.committee.members.length === 0;
    if (firstStart) {
      await chain.advanceEpoch();
      log('epoch 0 ended: the registered nodes form the first committee');
    }
    const deadline = Date.now() + timeout;
    for (;;) {
      state = await chain.systemState();
      // A restart may find an epoch change in progress (nodes still recovering moved shards): the
      // network serves reads and stores meanwhile, so only the first start waits for `active`
      // (found by the soak: a restart under load timed out waiting for a sync it did not need).
      if (state.committee.members.length > 0 && (state.epochState === 'active' || !firstStart)) break;
      if (Date.now() > deadline) throw new TuskError(`the committee of epoch ${state.epoch} did not become active within ${timeout} ms`);
      await sleep(200);
    }
    log(
      `epoch ${state.epoch}${state.epochState === 'active' ? '' : ' (epoch change in progress)'}: ${state.committee.members.length} nodes hold ${state.nShards} shards`,
    );

    const wallet = await ensureWallet(join(dir, 'wallet.key'));
    const address = wallet.toSuiAddress();
    const want = options.walletFunds ?? 1000n * FROST_PER_WAL;
    const fundedMarker = join(dir, 'wallet.funded');
    const sui: ClientSuiConfig = { url: chainUrl, packageConfig: await localnetPackageConfig(chainUrl) };
    const configPath = resolve(options.configPath ?? join(dir, 'client.json'));
    if (
      !(await access(fundedMarker).then(
        () => true,
        () => false,
      ))
    ) {
      // First start (or one that stopped before funding): fund once, then remember it.
      const balance = await chain.balance(address);
      if (balance < want) await chain.requestFaucet(address, want - balance);
      await writeFile(fundedMarker, `${new Date().toISOString()} funded ${address} with ${want} FROST\n`);
      await writeClientConfig(configPath, { chainUrl, wallet: join(dir, 'wallet.key'), sui });
      log(`wallet ${address} funded with ${formatFrost(want)} WAL; client config at ${configPath}`);
    } else {
      const balance = await chain.balance(address);
      await writeClientConfig(configPath, { chainUrl, wallet: join(dir, 'wallet.key'), sui });
      log(
        `wallet ${address} has ${formatFrost(balance)} WAL (not topped up on a restart; \`tusk chain faucet ${address} --url ${chainUrl}\` adds more); client config at ${configPath}`,
      );
    }

    options.signal?.removeEventListener('abort', onAbort);
    options.signal?.throwIfAborted();
    let stopped = false;
    // The offline fault: the supervisor stops the node process and starts it again on schedule.
    const offlineTimers: NodeJS.Timeout[] = [];
    for (const [i, f] of options.faults ?? []) {
      if (!f.offline) continue;
      const { durationMs, startMs, periodMs } = f.offline;
      const down = () => {
        if (stopped) return;
        log(`node-${i} goes offline for ${durationMs / 1000} s (fault)`);
        const child = nodeChildren[i];
        nodeChildren[i] = undefined;
        void stopChild(child).then(() => {
          if (stopped) return;
          const t = setTimeout(() => {
            if (stopped) return;
            startNode(i).then(
              () => log(`node-${i} is back online (fault)`),
              (e: unknown) => log(`node-${i} could not be restarted after its offline fault: ${(e as Error).message}`),
            );
          }, durationMs);
          offlineTimers.push(t);
        });
        if (periodMs !== undefined) offlineTimers.push(setTimeout(down, periodMs));
      };
      offlineTimers.push(setTimeout(down, startMs));
    }
    return {
      dataDir: dir,
      chainUrl,
      configPath,
      walletAddress: address,
      nShards: layout.nShards,
      sui,
      nodes,
      async stopNode(i, signal = 'SIGTERM') {
        const child = nodeChildren[i];
        nodeChildren[i] = undefined;
        await stopChild(child, signal);
      },
      async startNode(i) {
        if (nodeChildren[i] && nodeChildren[i]!.exitCode === null && nodeChildren[i]!.signalCode === null) return;
        await startNode(i);
      },
      async restartChain(signal = 'SIGTERM') {
        const child = chainChild;
        chainChild = undefined;
        await stopChild(child, signal);
        await startChain();
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        for (const t of offlineTimers) clearTimeout(t);
        await stopAll();
      },
    };
  } catch (e) {
    options.signal?.removeEventListener('abort', onAbort);
    await stopAll();
    throw options.signal?.aborted ? options.signal.reason : e;
  }
}
