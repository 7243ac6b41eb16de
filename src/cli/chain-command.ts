/**
 * `tusk chain …` and `tusk wallet …`: run the local chain as a server and talk to it.
 *
 *   tusk chain serve --data-dir <dir> [--port N] [--host H] [--n-shards N] [--epoch-duration D]
 *                    [--dev-routes on|off | --no-dev-routes] [--challenges on|off] [--json]
 *   tusk chain info --url <url> [--json]
 *   tusk chain faucet <address> [--amount WAL] --url <url> [--json]
 *   tusk chain balance <address> --url <url> [--json]
 *   tusk chain advance-epoch --url <url> [--json]
 *   tusk wallet new --out <file> [--force] [--json]
 *   tusk wallet address <file> [--json]
 *
 * Same output contract as the rest of the CLI (src/cli/main.ts): results on stdout (one JSON
 * object with --json), errors on stderr. FROST amounts in JSON are decimal strings: a JSON number
 * would lose precision above 2^53 FROST (≈ 9 million WAL).
 */
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { loadWallet } from '../client/client-config.ts';
import { LocalChain } from '../chain/local/index.ts';
import { registerLocalnetRoutes } from '../chain/localnet/localnet-service.ts';
import { isLoopbackHost, startChainServer } from '../chain/remote/server.ts';
import { RemoteChain } from '../chain/remote/client.ts';
import { scaledChallengeParams } from '../chain/remote/challenge-clock.ts';
import { FROST_PER_WAL } from '../chain/types.ts';
import { TuskInputError } from '../errors.ts';
import { intOption, logLine, onePositional, parseCommand, parseObjectIdArg, print, UsageError } from './common.ts';
import { watchParent } from './parent-watch.ts';

/** Usage text of the chain and wallet commands (main.ts appends it to its own). */
export const CHAIN_USAGE = `Chain (a local development chain with the Walrus system semantics):
  chain serve --data-dir <dir>        Open (or create) <dir>/chain.sqlite and serve it over HTTP until
        [--port N] [--host H]         SIGINT/SIGTERM; prints the URL and the chain ID. Defaults:
        [--n-shards N]                127.0.0.1, a free port; --n-shards and --epoch-duration
        [--epoch-duration <ms|30s|1h|1d>]  (which also runs the epoch clock) apply at creation.
        [--dev-routes on|off]         Serve the unauthenticated faucet and advance-epoch routes.
        [--no-dev-routes]             Default: on for a loopback --host (127.0.0.1, ::1,
                                      localhost), off for any other (e.g. 0.0.0.0).
        [--challenges on|off]         Run the storage-challenge round clock: 4 rounds an epoch,
                                      round r at start + T(r+1)/5 (default off; tusk dev turns
                                      it on). A new chain's answer windows scale with T.
        [--exit-with-parent]          Stop when the parent process dies (used by tusk dev).
                                      Also serves the Sui view the official Walrus SDK uses
                                      (tuskSuiClient from tusk/sui; docs/localnet.md).
  chain info --url <url>              Epoch, prices and committee of the chain at <url>.
  chain faucet <address> --url <url> [--amount WAL]   Fund a development wallet.
  chain balance <address> --url <url> WAL balance of <address>.
  chain advance-epoch --url <url>     End the current epoch now.
  wallet new --out <file> [--force]   Write a new Ed25519 key (suiprivkey…, mode 0600); print its address.
  wallet address <file>               Print the address of the key in <file>.
`;

const OPTIONS = {
  'data-dir': { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  'n-shards': { type: 'string' },
  'epoch-duration': { type: 'string' },
  'dev-routes': { type: 'string' },
  'no-dev-routes': { type: 'boolean', default: false },
  challenges: { type: 'string' },
  'exit-with-parent': { type: 'boolean', default: false },
  url: { type: 'string' },
  amount: { type: 'string' },
  out: { type: 'string' },
  force: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
} as const;

type Values = ReturnType<typeof parse>['values'];

type OptionName = keyof typeof OPTIONS;

/** The options each subcommand accepts (besides --json): any other is a usage error. */
const SUBCOMMAND_OPTIONS: Record<string, OptionName[]> = {
  'chain serve': [
    'data-dir',
    'port',
    'host',
    'n-shards',
    'epoch-duration',
    'dev-routes',
    'no-dev-routes',
    'challenges',
    'exit-with-parent',
  ],
  'chain info': ['url'],
  'chain faucet': ['url', 'amount'],
  'chain balance': ['url'],
  'chain advance-epoch': ['url'],
  'wallet new': ['out', 'force'],
  'wallet address': [],
};

function parse(command: string, args: string[]) {
  const allowed = new Set<OptionName>(['json', ...(SUBCOMMAND_OPTIONS[command] ?? (Object.keys(OPTIONS) as OptionName[]))]);
  const options = Object.fromEntries(Object.entries(OPTIONS).filter(([k]) => allowed.has(k as OptionName))) as Partial<typeof OPTIONS>;
  return parseCommand(command, args, options as typeof OPTIONS);
}

/**
 * The shortest epoch the CLI accepts. A store must register, upload and certify within one epoch
 * to go through without re-collecting confirmations, and every epoch change makes every node
 * re-sync its shards: below a few seconds a network does little but change epochs.
 */
export const MIN_EPOCH_DURATION_MS = 5_000;

/** Parses a duration: plain milliseconds, or a number with unit ms, s, m, h or d. @throws UsageError */
export function parseDuration(text: string, option = '--epoch-duration', minMs = MIN_EPOCH_DURATION_MS): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new UsageError(`${option}: not a duration: ${JSON.stringify(text)} (use e.g. 60000, 30s, 10m, 1h, 1d)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? 'ms']!;
  const ms = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(ms) || ms < minMs)
    throw new UsageError(`${option} must be at least ${minMs / 1000} s (a store must fit in an epoch), got ${JSON.stringify(text)}`);
  return ms;
}

/**
 * A URL a client on this machine can use for a server listening on `host`:`port`. A wildcard
 * listen address (0.0.0.0, ::) is not one; its loopback counterpart is.
 */
export function reachableUrl(host: string, port: number): string {
  const h = host.replace(/^\[(.*)\]$/, '$1');
  if (h === '0.0.0.0' || h === '') return `http://127.0.0.1:${port}`;
  if (h === '::' || h === '::0' || /^(0{1,4}:){7}0{1,4}$/.test(h)) return `http://[::1]:${port}`;
  return h.includes(':') ? `http://[${h}]:${port}` : `http://${h}:${port}`;
}

/** Parses a WAL amount with up to 9 decimals into FROST, exactly (no floats). */
export function parseWal(text: string): bigint {
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(text.trim());
  if (!m) throw new TuskInputError(`not a WAL amount: ${JSON.stringify(text)} (e.g. 10 or 0.5; at most 9 decimals)`);
  const frost = BigInt(m[1]) * FROST_PER_WAL + BigInt((m[2] ?? '').padEnd(9, '0') || '0');
  if (frost <= 0n) throw new TuskInputError('amount must be positive');
  return frost;
}

/** Formats FROST as WAL without rounding (trailing zeros trimmed). */
export function formatWal(frost: bigint): string {
  const sign = frost < 0n ? '-' : '';
  const abs = frost < 0n ? -frost : frost;
  const whole = abs / FROST_PER_WAL;
  const frac = (abs % FROST_PER_WAL).toString().padStart(9, '0').replace(/0+$/, '');
  return `${sign}${whole}${frac ? '.' + frac : ''}`;
}

/** A WAL amount option. @throws UsageError */
function walArg(text: string): bigint {
  try {
    return parseWal(text);
  } catch (e) {
    throw new UsageError(`--amount: ${(e as Error).message}`);
  }
}

function needUrl(values: Values, command: string, usageError: (m: string) => Error): RemoteChain {
  if (!values.url) throw usageError(`chain ${command} needs --url <url> (printed by tusk chain serve)`);
  return new RemoteChain({ url: values.url, submitRetries: 0 });
}

/**
 * Runs `tusk chain <sub> …`. `usageError` builds the error main.ts reports with exit code 2.
 * Resolves to the exit code; other errors propagate to main.ts (exit 1).
 */
export async function chainCommand(argv: string[], usageError: (message: string) => Error): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parse(`chain ${sub}`, rest);
  switch (sub) {
    case 'serve':
      return serve(values, positionals, usageError);
    case 'info': {
      if (positionals.length) throw usageError('chain info takes no positional arguments');
      const chain = needUrl(values, 'info', usageError);
      const [health, state] = [await chain.health(), await chain.systemState()];
      const members = state.committee.members.map((m) => ({
        nodeId: m.nodeId,
        name: m.name,
        networkAddress: m.networkAddress,
        weight: m.weight,
      }));
      const info = {
        url: chain.url,
        chainId: health.chainId,
        epoch: state.epoch,
        epochState: state.epochState,
        nShards: state.nShards,
        storagePricePerUnitSize: state.storagePricePerUnitSize.toString(),
        writePricePerUnitSize: state.writePricePerUnitSize.toString(),
        maxEpochsAhead: state.maxEpochsAhead,
        epochDurationMs: state.epochDurationMs,
        epochStartMs: state.epochStartMs,
        totalCapacitySize: state.totalCapacitySize,
        usedCapacitySize: state.usedCapacitySize,
        committee: members,
      };
      const lines = [
        `chain ${info.chainId} at ${info.url}`,
        `epoch ${info.epoch} (${info.epochState}), ${info.nShards} shards, epoch duration ${info.epochDurationMs} ms`,
        `prices per MiB: storage ${info.storagePricePerUnitSize} FROST/epoch, write ${info.writePricePerUnitSize} FROST`,
        `capacity ${info.usedCapacitySize}/${info.totalCapacitySize} bytes used, max ${info.maxEpochsAhead} epochs ahead`,
        `committee: ${members.length === 0 ? 'empty' : members.length + ' nodes'}`,
        ...members.map((m) => `  ${m.nodeId} ${m.name} ${m.networkAddress} (${m.weight} shards)`),
      ];
      print(values.json, info, lines.join('\n'));
      return 0;
    }
    case 'faucet': {
      const recipient = parseObjectIdArg(onePositional(positionals, 'address', 'chain faucet', usageError), 'address');
      const chain = needUrl(values, 'faucet', usageError);
      const amount = values.amount === undefined ? undefined : walArg(values.amount);
      const r = await chain.requestFaucet(recipient, amount);
      const balance = await chain.balance(recipient);
      print(
        values.json,
        { recipient, amount: r.amount.toString(), balance: balance.toString(), digest: r.digest },
        `sent ${formatWal(r.amount)} WAL to ${recipient} (balance ${formatWal(balance)} WAL)`,
      );
      return 0;
    }
    case 'balance': {
      const address = parseObjectIdArg(onePositional(positionals, 'address', 'chain balance', usageError), 'address');
      const balance = await needUrl(values, 'balance', usageError).balance(address);
      print(values.json, { address, balance: balance.toString() }, `${formatWal(balance)} WAL`);
      return 0;
    }
    case 'advance-epoch': {
      if (positionals.length) throw usageError('chain advance-epoch takes no positional arguments');
      const r = await needUrl(values, 'advance-epoch', usageError).advanceEpoch();
      print(values.json, { epoch: r.epoch, digest: r.digest }, `epoch ${r.epoch}`);
      return 0;
    }
    default:
      throw usageError(
        sub === undefined
          ? 'chain needs a subcommand (serve, info, faucet, balance, advance-epoch)'
          : `unknown chain subcommand ${JSON.stringify(sub)}`,
      );
  }
}

/**
 * Whether `chain serve` on `host` serves the dev routes: `--dev-routes on|off` or `--no-dev-routes`
 * when given, else on only for a loopback host. Writes a note to stderr when the default turns them
 * off, and a warning when they are turned on for a host reachable from the network (anyone who
 * reaches it can mint WAL and end epochs). The note comes before binding, whatever happens then.
 */
function devRoutesSetting(values: Values, host: string, usageError: (m: string) => Error): boolean {
  const flag = values['dev-routes'];
  if (flag !== undefined && flag !== 'on' && flag !== 'off')
    throw usageError(`--dev-routes must be on or off, got ${JSON.stringify(flag)}`);
  if (flag !== undefined && values['no-dev-routes']) throw usageError('give either --dev-routes or --no-dev-routes, not both');
  const loopback = isLoopbackHost(host);
  if (flag === undefined && !values['no-dev-routes']) {
    if (!loopback) {
      process.stderr.write(
        `tusk: note: the faucet and advance-epoch routes are off because --host ${host} is not a loopback address; pass --dev-routes on to serve them anyway\n`,
      );
    }
    return loopback;
  }
  const on = flag === 'on';
  if (on && !loopback) {
    process.stderr.write(
      `tusk: warning: --dev-routes on with --host ${host}: anyone who can reach this server can mint WAL and end epochs\n`,
    );
  }
  return on;
}

async function serve(values: Values, positionals: string[], usageError: (m: string) => Error): Promise<number> {
  if (positionals.length) throw usageError('chain serve takes no positional arguments');
  const dataDir = values['data-dir'];
  if (!dataDir) throw usageError('chain serve needs --data-dir <dir>');
  const port = intOption(values.port, 'port', 0, 65535) ?? 0;
  const nShards = intOption(values['n-shards'], 'n-shards', 4, 49155); // RS2's committee range
  const epochDurationMs = values['epoch-duration'] === undefined ? undefined : parseDuration(values['epoch-duration']);
  const host = values.host ?? '127.0.0.1';
  const devRoutes = devRoutesSetting(values, host, usageError);
  const challengeFlag = values.challenges;
  if (challengeFlag !== undefined && challengeFlag !== 'on' && challengeFlag !== 'off')
    throw usageError(`--challenges must be on or off, got ${JSON.stringify(challengeFlag)}`);
  await mkdir(dataDir, { recursive: true });
  // At creation, the challenge answer windows follow the epoch duration (challenge-clock.ts).
  const chain = await LocalChain.open({
    path: join(dataDir, 'chain.sqlite'),
    nShards,
    epochDurationMs,
    challenges: epochDurationMs === undefined ? undefined : scaledChallengeParams(epochDurationMs),
  });
  let server: Awaited<ReturnType<typeof startChainServer>>;
  try {
    server = await startChainServer({
      chain,
      host,
      port,
      devRoutes,
      epochClock: epochDurationMs !== undefined,
      challengeClock: challengeFlag === 'on',
      routes: (app) => registerLocalnetRoutes(app, chain),
      onLog: (line) => logLine('chain', line),
      onError: (e) => logLine('chain', `error: ${(e as Error)?.stack ?? String(e)}`),
    });
  } catch (e) {
    await chain.close();
    throw e;
  }
  // Wait for the stop signal before printing, so a supervisor that reads the line can signal at once.
  // SIGHUP (terminal closed, or `kill -HUP`) stops cleanly too; so does the parent's death
  // under --exit-with-parent (tusk dev), so a killed supervisor leaves no chain holding its port.
  let unwatch = () => {};
  const stopped = new Promise<string>((resolve) => {
    const onSignal = (signal: string) => {
      for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.removeListener(s, onSignal);
      unwatch();
      resolve(signal);
    };
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal);
    if (values['exit-with-parent']) unwatch = watchParent(onSignal);
  });
  const chainId = await chain.chainId();
  const state = await chain.systemState();
  // The duration is fixed at genesis; an existing chain keeps its own (the clock follows the chain).
  if (epochDurationMs !== undefined && state.epochDurationMs !== epochDurationMs) {
    process.stderr.write(
      `tusk: warning: this chain's epoch duration is ${state.epochDurationMs} ms (set when it was created); --epoch-duration ${epochDurationMs} only turns the epoch clock on\n`,
    );
  }
  // A wildcard host (0.0.0.0, ::) listens everywhere but is no address to connect to.
  const url = reachableUrl(host, server.port);
  print(
    values.json,
    { url, chainId, dataDir, epoch: state.epoch, nShards: state.nShards },
    `chain ${chainId} (epoch ${state.epoch}, ${state.nShards} shards) serving ${dataDir} at ${url}`,
  );
  logLine('chain', `serving ${url}: epoch ${state.epoch} (${state.epochState}), ${state.nShards} shards, data in ${dataDir}`);
  const signal = await stopped;
  logLine('chain', `stopping (${signal})`);
  // Order: stop taking requests (pending ones finish), then close the database.
  await server.close();
  await chain.close();
  logLine('chain', 'stopped');
  return 0;
}

/**
 * Runs `tusk wallet <sub> …`: a development key file holding a Sui `suiprivkey…` string.
 * Resolves to the exit code.
 */
export async function walletCommand(argv: string[], usageError: (message: string) => Error): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parse(`wallet ${sub}`, rest);
  switch (sub) {
    case 'new': {
      if (!values.out) throw usageError('wallet new needs --out <file>');
      const keypair = Ed25519Keypair.generate();
      // 0600 from creation (not chmod after): the key is never readable by others, even briefly.
      // 'wx' refuses to replace an existing key unless --force.
      const file = await open(values.out, values.force ? 'w' : 'wx', 0o600);
      try {
        await file.chmod(0o600);
        await file.writeFile(keypair.getSecretKey() + '\n');
      } finally {
        await file.close();
      }
      const address = keypair.toSuiAddress();
      print(values.json, { address, file: values.out }, address);
      return 0;
    }
    case 'address': {
      const file = onePositional(positionals, 'key file', 'wallet address', usageError);
      const address = (await loadWallet(file)).toSuiAddress();
      print(values.json, { address }, address);
      return 0;
    }
    default:
      throw usageError(sub === undefined ? 'wallet needs a subcommand (new, address)' : `unknown wallet subcommand ${JSON.stringify(sub)}`);
  }
}
