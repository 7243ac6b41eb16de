/**
 * `tusk node run`: a storage node process (src/node/) connected to a chain served by
 * `tusk chain serve`.
 *
 *   tusk node run --data-dir <dir> --chain-url <url> [--host 127.0.0.1] [--port N]
 *                 [--name <name>] [--stake WAL] [--network-address <addr>]
 *                 [--fault drop=0.3,late=5s,lie] [--no-challenges] [--json]
 *
 * Prints one line once the node is registered, caught up and serving (with --json, one JSON object
 * `{url,nodeId,address,publicKey,dataDir}`), then runs until SIGINT/SIGTERM, on which it stops
 * taking requests, lets the in-flight ones finish and closes its database.
 */
import { RemoteChain } from '../chain/remote/client.ts';
import { startStorageNode } from '../node/node.ts';
import { parseNodeFaults, type NodeFaults } from '../node/faults.ts';
import { FROST_PER_WAL } from '../chain/types.ts';
import { logLine, parseCommand, print, UsageError } from './common.ts';
import { watchParent } from './parent-watch.ts';
import { ChainUnavailableError } from '../errors.ts';
import { sleep } from '../util/async.ts';

/**
 * Resolves once `chain` answers; retries an unreachable chain (ChainUnavailableError) with backoff
 * up to `ms`, logging once a few seconds in. Any other error, or the deadline, is thrown.
 */
async function waitForChain(chain: RemoteChain, ms: number, log: (m: string) => void, stopping: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  for (let attempt = 0; ; attempt++) {
    try {
      await chain.systemState();
      if (attempt > 0) log(`chain ${chain.url} reachable again`);
      return;
    } catch (e) {
      if (!(e instanceof ChainUnavailableError) || Date.now() > deadline || stopping()) throw e;
      if (attempt === 2) log(`waiting for the chain ${chain.url} (${(e as Error).message}); up to ${ms / 1000} s`);
      await sleep(Math.min(5_000, 200 * 2 ** attempt));
    }
  }
}

/** Usage text of the node command (main.ts appends it to its own). */
export const NODE_USAGE = `Storage node:
  node run --data-dir <dir>           Run a storage node (keys and database in <dir>, created on
        --chain-url <url>             first start) for the chain at <url>: registers and stakes on
        [--host H] [--port N]         first start, serves the Walrus v1 storage-node API until
        [--name NAME] [--stake WAL]   SIGINT/SIGTERM. Defaults: 127.0.0.1, a free port, stake
        [--network-address ADDR]      1000 WAL (from the dev faucet), address = the listen URL
        [--exit-with-parent]          (with --host 0.0.0.0 or ::, pass --network-address).
        [--chain-wait SECONDS]        --exit-with-parent: stop when the parent process dies
        [--fault SPEC]                (used by tusk dev). SIGHUP stops the node like SIGTERM.
        [--no-challenges]             --chain-wait: wait that long for an unreachable chain at
                                      start (default 0: fail at once; tusk dev passes 120).
                                      The node answers the chain's storage challenges unless
                                      --no-challenges. --fault (testing): drop=<fraction> (delete
                                      that share of its slivers for good), late=<duration>
                                      (answer challenges that late), lie (answer wrong bytes),
                                      comma-separated, e.g. drop=0.3,late=5s (docs/challenges.md).
`;

const OPTIONS = {
  'data-dir': { type: 'string' },
  'chain-url': { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  name: { type: 'string' },
  stake: { type: 'string' },
  'network-address': { type: 'string' },
  'exit-with-parent': { type: 'boolean', default: false },
  'chain-wait': { type: 'string' },
  fault: { type: 'string' },
  'no-challenges': { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
} as const;

/** Parses a WAL amount (up to 9 decimals) into FROST exactly; 0 is allowed (no stake). */
function parseStakeWal(text: string): bigint {
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(text.trim());
  if (!m) throw new UsageError(`--stake must be a WAL amount such as 1000 or 0.5, got ${JSON.stringify(text)}`);
  return BigInt(m[1]) * FROST_PER_WAL + BigInt((m[2] ?? '').padEnd(9, '0') || '0');
}

/** Runs `tusk node <sub> …`; resolves to the exit code. */
export async function nodeCommand(args: string[], usageError: (m: string) => Error): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'run')
    throw usageError(sub === undefined ? 'node needs a subcommand (run)' : `unknown node subcommand ${JSON.stringify(sub)}`);
  const { values, positionals } = parseCommand('node run', rest, OPTIONS);
  if (positionals.length) throw usageError('node run takes no positional arguments');
  const dataDir = values['data-dir'];
  if (!dataDir) throw usageError('node run needs --data-dir <dir>');
  const chainUrl = values['chain-url'];
  if (!chainUrl) throw usageError('node run needs --chain-url <url> (printed by tusk chain serve)');
  let port = 0;
  if (values.port !== undefined) {
    if (!/^\d{1,5}$/.test(values.port) || Number(values.port) > 65535)
      throw usageError(`--port must be 0…65535, got ${JSON.stringify(values.port)}`);
    port = Number(values.port);
  }
  const stake = values.stake === undefined ? undefined : parseStakeWal(values.stake);
  const chainWait = values['chain-wait'] ?? '0';
  if (!/^\d{1,6}$/.test(chainWait)) throw usageError(`--chain-wait must be whole seconds, got ${JSON.stringify(chainWait)}`);
  let faults: NodeFaults | undefined;
  if (values.fault !== undefined) {
    try {
      faults = parseNodeFaults(values.fault);
    } catch (e) {
      throw usageError(`--fault: ${(e as Error).message}`);
    }
    if (faults.offline) throw usageError('--fault: offline is applied by tusk dev --faults (it stops and restarts the process)');
  }

  // Listen for the stop signal from the start, so a signal during start-up is not lost.
  let stopSignal: string | null = null;
  let wake: (() => void) | null = null;
  const onSignal = (signal: string) => {
    stopSignal = signal;
    wake?.();
  };
  // SIGHUP (terminal closed, `kill -HUP`) stops cleanly too; under --exit-with-parent so does the
  // death of the parent (tusk dev), so a killed supervisor leaves no node holding its port.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.on(s, onSignal);
  const unwatch = values['exit-with-parent'] ? watchParent(onSignal) : () => {};
  const name = values.name ?? 'node';
  try {
    const chain = new RemoteChain({ url: chainUrl });
    // A node started while its chain server restarts (a crash, an upgrade) waits for it instead of
    // exiting: found by the chaos soak, where a node restarted during a chain restart stayed down
    // for good and held the epoch change in changeSync forever.
    await waitForChain(
      chain,
      Number(chainWait) * 1000,
      (m) => logLine(name, m),
      () => stopSignal !== null,
    );
    const node = await startStorageNode({
      chain,
      dataDir,
      host: values.host ?? '127.0.0.1',
      port,
      name: values.name,
      stake,
      networkAddress: values['network-address'],
      challenges: !values['no-challenges'],
      faults,
      onLog: (line) => logLine(name, line),
      onError: (e) => logLine(name, `error: ${e instanceof Error ? e.message : String(e)}`),
    });
    logLine(name, `serving ${node.url} as ${node.nodeId} (data in ${dataDir})`);
    // A wildcard listen address is not an address peers or clients can use: without
    // --network-address the node would register (and advertise) exactly that.
    const host = values.host ?? '127.0.0.1';
    if (values['network-address'] === undefined && (host === '0.0.0.0' || host === '::' || host === '[::]')) {
      process.stderr.write(
        `tusk: warning: --host ${host} registers the unreachable address ${node.url}; pass --network-address <reachable host:port>\n`,
      );
    }
    const info = {
      url: node.url,
      nodeId: node.nodeId,
      address: node.address,
      publicKey: Buffer.from(node.publicKey).toString('base64'),
      dataDir,
    };
    print(values.json, info, `storage node ${node.nodeId} serving at ${node.url} (data in ${dataDir})`);
    if (stopSignal === null) await new Promise<void>((resolve) => (wake = resolve));
    logLine(name, `stopping (${stopSignal})`);
    await node.close();
    logLine(name, 'stopped');
    return 0;
  } finally {
    unwatch();
    for (const s of signals) process.removeListener(s, onSignal);
  }
}
