/**
 * `tusk dev`: starts a local network (the chain and N storage nodes as separate processes on
 * loopback), funds a development wallet, writes the client config, and runs until Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { homedir } from 'node:os';
import { startDevNetwork } from '../network/dev-network.ts';
import { defaultConfigPath } from '../client/client-config.ts';
import { parseDuration } from './chain-command.ts';
import { TuskError } from '../errors.ts';
import { intOption, print } from './common.ts';

/** Usage text of `tusk dev` (main.ts appends it to its own). */
export const DEV_USAGE = `Local network:
  dev [--data-dir <dir>] [--nodes N] [--n-shards N] [--epoch-duration D] [--config <file>]
      Start the chain and N storage nodes (default 10 nodes, 100 shards, epochs of 1h; data in
      ~/.local/share/tusk/dev), fund a wallet, write the client config (default
      $TUSK_CONFIG or ~/.config/tusk/client.json — replaced) and run until Ctrl-C. A restart resumes.
`;


/** Runs `tusk dev …`; resolves to the exit code once the network was stopped by a signal. */
export async function devCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'data-dir': { type: 'string' }, nodes: { type: 'string' }, 'n-shards': { type: 'string' }, 'epoch-duration': { type: 'string' },
      config: { type: 'string' }, json: { type: 'boolean', default: false },
    },
  });
  const dataDir = values['data-dir'] ?? join(homedir(), '.local', 'share', 'tusk', 'dev');
  // Listen for Ctrl-C/SIGTERM before start-up: a signal during it stops what was started.
  const stop = new AbortController();
  let stopSignal = '';
  const onSignal = (sig: string) => {
    stopSignal = sig;
    stop.abort(new TuskError(`interrupted (${sig})`));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const net = await startDevNetwork({
    signal: stop.signal,
    dataDir,
    nodes: intOption(values.nodes, 'nodes', 1, 100),
    nShards: intOption(values['n-shards'], 'n-shards', 4, 1000),
    epochDurationMs: values['epoch-duration'] ? parseDuration(values['epoch-duration']) : undefined,
    configPath: values.config ?? defaultConfigPath(),
    onLog: values.json ? undefined : (line) => process.stderr.write(`tusk dev: ${line}\n`),
  });
  const summary = { chainUrl: net.chainUrl, configPath: net.configPath, walletAddress: net.walletAddress, nShards: net.nShards, dataDir: net.dataDir, nodes: net.nodes };
  print(values.json, summary, [
    `local network running: chain ${net.chainUrl}, ${net.nodes.length} nodes, ${net.nShards} shards`,
    `client config: ${net.configPath} (wallet ${net.walletAddress})`,
    `try: tusk store <file> --epochs 5   then   tusk read <blobId> --out <file>`,
    'Ctrl-C stops the network; its state stays in ' + net.dataDir,
  ].join('\n'));
  if (!stop.signal.aborted) await new Promise((res) => stop.signal.addEventListener('abort', res, { once: true }));
  if (!values.json) process.stderr.write(`tusk dev: stopping (${stopSignal})…\n`);
  await net.stop();
  return 0;
}
