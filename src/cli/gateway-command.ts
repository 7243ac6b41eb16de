/**
 * `tusk publisher | aggregator | daemon`: the Walrus-compatible HTTP gateway (src/gateway) with the
 * Walrus CLI's flags where they apply, plus `--config <client.json>` (a `tusk dev` network by
 * default) and Tusk's cache flags. Runs until SIGINT/SIGTERM, then drains and exits 0.
 */
import { parseArgs } from 'node:util';
import { selectChain } from './chain-select.ts';
import { startDaemon, type DaemonMode } from '../gateway/daemon.ts';
import { datasetRoutes } from '../dataset/gateway-routes.ts';
import { JWT_ALGORITHMS, type JwtAlgorithm } from '../gateway/jwt.ts';
import { intOption, print } from './common.ts';

/** Usage text (main.ts appends it to its own). */
export const GATEWAY_USAGE = `HTTP gateway (Walrus-compatible; docs/gateway.md):
  publisher | aggregator | daemon [options]   Serve PUT /v1/blobs and/or GET /v1/blobs/… over HTTP.
  Options: --config <client.json>, --network mainnet|testnet|local [--rpc-url <url>] [--wallet <keystore>], --bind-address host:port (127.0.0.1:31415),
    --metrics-address host:port (127.0.0.1:27182; "none" disables), --max-body-size <KiB> (10240),
    --max-quilt-body-size <KiB> (102400), --portal-domain <domain> (localhost; sites at <b36>.<domain>),
    --no-portal (do not serve Walrus Sites; docs/sites.md),
    --max-buffer-size N (8), --max-concurrent-requests N (8), --aggregator-max-buffer-size N (320),
    --aggregator-max-concurrent-requests N (256), --n-clients N, --blocklist <file>,
    --allowed-headers <h>… , --max-blob-size <bytes>, --cache-dir <dir>, --cache-size <MiB> (1024),
    --cache-fill-after-ranges N (2),
    --temp-dir <dir>, --jwt-decode-secret <s>, --jwt-algorithm <alg> (HS256), --jwt-expiring-sec N,
    --jwt-verify-upload, --jwt-cache-size N (10000), --not-found-cache-control <value> (no-store), --json.
`;

const OPTIONS = {
  config: { type: 'string' },
  // Walrus on Sui instead of the config's chain (docs/real-network.md).
  network: { type: 'string' },
  'rpc-url': { type: 'string' },
  wallet: { type: 'string' },
  json: { type: 'boolean', default: false },
  'bind-address': { type: 'string' },
  'metrics-address': { type: 'string', short: 'a' },
  'max-body-size': { type: 'string' },
  'max-quilt-body-size': { type: 'string' },
  'portal-domain': { type: 'string' },
  'no-portal': { type: 'boolean', default: false },
  'max-buffer-size': { type: 'string' },
  'publisher-max-buffer-size': { type: 'string' },
  'max-concurrent-requests': { type: 'string' },
  'publisher-max-concurrent-requests': { type: 'string' },
  'aggregator-max-buffer-size': { type: 'string' },
  'aggregator-max-concurrent-requests': { type: 'string' },
  'n-clients': { type: 'string' },
  'sub-wallets-dir': { type: 'string' },
  blocklist: { type: 'string' },
  'allowed-headers': { type: 'string', multiple: true },
  'max-blob-size': { type: 'string' },
  'cache-dir': { type: 'string' },
  'cache-size': { type: 'string' },
  'cache-fill-after-ranges': { type: 'string' },
  'temp-dir': { type: 'string' },
  'jwt-decode-secret': { type: 'string' },
  'jwt-algorithm': { type: 'string' },
  'jwt-expiring-sec': { type: 'string' },
  'jwt-verify-upload': { type: 'boolean', default: false },
  'jwt-cache-size': { type: 'string' },
  'jwt-cache-refresh-interval': { type: 'string' },
  'not-found-cache-control': { type: 'string' },
} as const;

const BIG = Number.MAX_SAFE_INTEGER;

/** Runs `tusk <mode>`; resolves to the exit code once the gateway was stopped by a signal. */
export async function gatewayCommand(mode: DaemonMode, args: string[], usageError: (m: string) => Error): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    process.stdout.write(GATEWAY_USAGE);
    return 0;
  }
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: OPTIONS });
  if (positionals.length > 0) throw usageError(`${mode} takes no positional arguments`);
  const alg = values['jwt-algorithm'] ?? 'HS256';
  if (!(JWT_ALGORITHMS as readonly string[]).includes(alg)) throw usageError(`--jwt-algorithm must be one of ${JWT_ALGORITHMS.join(', ')}`);
  // The same chain selection as every client command: the config's chain, or Walrus on Sui.
  const selected = await selectChain(values);
  const chain = selected.chain;
  const signer = mode === 'aggregator' ? undefined : await selected.loadWallet();
  const cacheMiB = intOption(values['cache-size'], 'cache-size', 0, 2 ** 30) ?? 1024;
  const allowed = values['allowed-headers']?.flatMap((h) => h.split(/[\s,]+/)).filter(Boolean);
  const daemon = await startDaemon({
    mode,
    // Datasets by path (GET /v1/datasets/{manifest}/{path}) wherever blobs are read.
    extraRoutes: mode === 'publisher' ? undefined : (s) => datasetRoutes({ chain: s.chain, reader: s.reader, tempDir: values['temp-dir'] }),
    chain,
    signer,
    bindAddress: values['bind-address'],
    metricsAddress: values['metrics-address'] === 'none' ? null : values['metrics-address'],
    maxBodySize: (intOption(values['max-body-size'], 'max-body-size', 1, 2 ** 32) ?? 10240) * 1024,
    maxQuiltBodySize: (intOption(values['max-quilt-body-size'], 'max-quilt-body-size', 1, 2 ** 32) ?? 102400) * 1024,
    portal: !values['no-portal'],
    portalDomain: values['portal-domain'],
    publisherMaxBufferSize: intOption(values['publisher-max-buffer-size'] ?? values['max-buffer-size'], 'max-buffer-size', 1, 1e6),
    publisherMaxConcurrentRequests: intOption(
      values['publisher-max-concurrent-requests'] ?? values['max-concurrent-requests'],
      'max-concurrent-requests',
      1,
      1e6,
    ),
    aggregatorMaxBufferSize: intOption(values['aggregator-max-buffer-size'], 'aggregator-max-buffer-size', 1, 1e6),
    aggregatorMaxConcurrentRequests: intOption(values['aggregator-max-concurrent-requests'], 'aggregator-max-concurrent-requests', 1, 1e6),
    blocklist: values.blocklist,
    allowedHeaders: allowed,
    maxBlobSize: intOption(values['max-blob-size'], 'max-blob-size', 0, BIG),
    cacheDir: values['cache-dir'],
    cacheMaxBytes: values['cache-dir'] ? cacheMiB * 2 ** 20 : 0,
    cacheFillAfterRanges: intOption(values['cache-fill-after-ranges'], 'cache-fill-after-ranges', 0, 1e9),
    tempDir: values['temp-dir'],
    notFoundCacheControl: values['not-found-cache-control'],
    jwt: {
      decodeSecret: values['jwt-decode-secret'],
      algorithm: alg as JwtAlgorithm,
      expiringSec: intOption(values['jwt-expiring-sec'], 'jwt-expiring-sec', 0, BIG),
      verifyUpload: values['jwt-verify-upload'],
      cacheSize: intOption(values['jwt-cache-size'], 'jwt-cache-size', 1, BIG),
    },
  });
  print(
    values.json,
    { mode, url: daemon.url, metricsUrl: daemon.metricsUrl },
    `tusk ${mode} listening on ${daemon.url}${daemon.metricsUrl ? ` (metrics ${daemon.metricsUrl})` : ''}`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await daemon.close();
  return 0;
}
