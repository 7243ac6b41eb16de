/**
 * `tusk dev`: starts a local network (the chain and N storage nodes as separate processes on
 * loopback), funds a development wallet, writes the client config, and runs until Ctrl-C.
 */
import { join, resolve } from 'node:path';
import { homedir } from 'node:os';
import { startDevNetwork } from '../network/dev-network.ts';
import { parseDevFaults } from '../network/dev-faults.ts';
import { formatNodeFaults, type NodeFaults } from '../node/faults.ts';
import { defaultConfigPath } from '../client/client-config.ts';
import { parseDuration } from './chain-command.ts';
import { TuskError } from '../errors.ts';
import { UsageError } from './common.ts';

/** `text` quoted for a POSIX shell when it needs it. */
function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
import { intOption, parseCommand, print } from './common.ts';

/** Usage text of `tusk dev` (main.ts appends it to its own). */
export const DEV_USAGE = `Local network:
  dev [--data-dir <dir>] [--nodes N] [--n-shards N] [--epoch-duration D] [--config <file>]
      [--challenges on|off] [--faults SPEC]
      Start the chain and N storage nodes (default 10 nodes, 100 shards, epochs of 1h; data in
      ~/.local/share/tusk/dev), fund a wallet, write the client config (default
      $TUSK_CONFIG or ~/.config/tusk/client.json — replaced) and run until Ctrl-C, SIGTERM or
      SIGHUP. A restart resumes (the wallet is funded on the first start only; top it up with
      tusk chain faucet). The processes stop with tusk dev, even on kill -9; a port still held
      by another process is reported with its PID.
      --epoch-duration: at least 5s (e.g. 30s, 10m, 1h).
      --challenges: storage-challenge rounds, 4 an epoch (default on; the nodes answer them).
      --faults: misbehaving nodes, comma-separated node-<i>:<fault> with <fault> one of
      drop=<fraction> (deletes that share of its slivers for good), late=<duration> (answers
      challenges that late), lie (answers wrong bytes), offline=<duration>[@<start>][/<period>]
      (process stopped that long, <start> after start-up, every <period>), e.g.
      --faults node-2:drop=0.3,node-4:late=5s (docs/challenges.md).
`;

/** Runs `tusk dev …`; resolves to the exit code once the network was stopped by a signal. */
export async function devCommand(argv: string[]): Promise<number> {
  const { values } = parseCommand(
    'dev',
    argv,
    {
      'data-dir': { type: 'string' },
      nodes: { type: 'string' },
      'n-shards': { type: 'string' },
      'epoch-duration': { type: 'string' },
      config: { type: 'string' },
      challenges: { type: 'string' },
      faults: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    false,
  );
  const nodes = intOption(values.nodes, 'nodes', 1, 100);
  const nShards = intOption(values['n-shards'], 'n-shards', 4, 1000);
  if (nodes !== undefined && nShards !== undefined && nShards < nodes)
    throw new UsageError(`--n-shards (${nShards}) must be at least --nodes (${nodes}): every node holds a shard`);
  const epochDurationMs = values['epoch-duration'] ? parseDuration(values['epoch-duration']) : undefined;
  const challenges = values.challenges;
  if (challenges !== undefined && challenges !== 'on' && challenges !== 'off')
    throw new UsageError(`--challenges must be on or off, got ${JSON.stringify(challenges)}`);
  let faults: Map<number, NodeFaults> | undefined;
  if (values.faults !== undefined) {
    try {
      // The node count is checked again against the network's own once its layout is known.
      faults = parseDevFaults(values.faults, nodes ?? 100);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    if (challenges === 'off' && [...faults.values()].some((f) => f.lateMs !== undefined || f.lie))
      process.stderr.write('tusk dev: note: late and lie faults show only in challenges, which --challenges off turns off\n');
  }
  const dataDir = values['data-dir'] ?? join(homedir(), '.local', 'share', 'tusk', 'dev');
  // Listen for Ctrl-C/SIGTERM before start-up: a signal during it stops what was started.
  const stop = new AbortController();
  let stopSignal = '';
  const onSignal = (sig: string) => {
    stopSignal = sig;
    stop.abort(new TuskError(`interrupted (${sig})`));
  };
  // SIGHUP too (terminal closed, `kill -HUP`): stop the network instead of dying with it running.
  // (A SIGKILL cannot be caught; the children then stop on their own, see dev-network.ts.)
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('SIGHUP', onSignal);
  let net: Awaited<ReturnType<typeof startDevNetwork>>;
  try {
    net = await startDevNetwork({
      signal: stop.signal,
      dataDir,
      nodes,
      nShards,
      epochDurationMs,
      challenges: challenges !== 'off',
      faults,
      configPath: values.config ?? defaultConfigPath(),
      onLog: values.json ? undefined : (line) => process.stderr.write(`tusk dev: ${line}\n`),
    });
  } catch (e) {
    // Interrupted during start-up: what was started is stopped; 130 = Ctrl-C, as shells expect.
    if (!stop.signal.aborted) throw e;
    process.stderr.write(`tusk dev: interrupted (${stopSignal}) during start-up; every process started was stopped\n`);
    return stopSignal === 'SIGINT' ? 130 : stopSignal === 'SIGHUP' ? 129 : 143;
  }
  const summary = {
    chainUrl: net.chainUrl,
    configPath: net.configPath,
    walletAddress: net.walletAddress,
    nShards: net.nShards,
    dataDir: net.dataDir,
    sui: net.sui,
    nodes: net.nodes,
  };
  // The hints must work as printed: with a config other than the default, they name it.
  const configArg = net.configPath === resolve(defaultConfigPath()) ? '' : ` --config ${shellQuote(net.configPath)}`;
  print(
    values.json,
    summary,
    [
      `local network running: chain ${net.chainUrl}, ${net.nodes.length} nodes, ${net.nShards} shards`,
      `client config: ${net.configPath} (wallet ${net.walletAddress})`,
      ...(challenges === 'off' ? ['storage challenges: off'] : []),
      ...(faults?.size
        ? [`faults: ${[...faults].map(([i, f]) => `node-${i} ${formatNodeFaults(f)}`).join('; ')} (docs/challenges.md §7)`]
        : []),
      `try: tusk store <file> --epochs 5${configArg}   then   tusk read <blobId> --out <file>${configArg}`,
      'the official Walrus SDK (docs/localnet.md):',
      `  new WalrusClient({ suiClient: tuskSuiClient({ url: '${net.sui.url}' }), storageNodeUrlScheme: 'http',`,
      `    packageConfig: { systemObjectId: '${net.sui.packageConfig.systemObjectId}',`,
      `                     stakingPoolId: '${net.sui.packageConfig.stakingPoolId}' } })   // tuskSuiClient from 'tusk/sui'`,
      'Ctrl-C stops the network; its state stays in ' + net.dataDir,
    ].join('\n'),
  );
  if (!stop.signal.aborted) await new Promise((res) => stop.signal.addEventListener('abort', res, { once: true }));
  if (!values.json) process.stderr.write(`tusk dev: stopping (${stopSignal})…\n`);
  await net.stop();
  return 0;
}
