/**
 * Walrus Sites on Tusk (`npm run bench:site`). A local network (chain + storage nodes as
 * processes); this process publishes and serves. Reports:
 *
 *  - publishing a site of --files files (default 2000: sizes 100 B … 40 KiB in nested folders,
 *    plus the sample site of test/fixtures/site): wall time, quilts stored, chain transactions
 *    and reads (counted through a proxy of the chain client), WAL spent (wallet balance
 *    before/after, FROST), the size of the one site transaction;
 *  - an update changing --changed files (default 20): the same figures;
 *  - the portal's page load of the sample site in headless chromium (the page and every
 *    resource it loads, until its module script has run): cold (a fresh gateway, empty caches)
 *    and warm (same gateway, fresh browser context), medians of --runs (default 5); and the same
 *    resources fetched with plain HTTP GETs (the portal's own share of the time). Without
 *    /usr/bin/chromium only the HTTP figures are measured (said loudly).
 *
 *   node bench/site.ts [--files 2000] [--changed 20] [--shards 100] [--nodes 4] [--runs 5] [--out file.json]
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevNetwork } from '../src/network/dev-network.ts';
import { RemoteChain } from '../src/chain/remote/client.ts';
import { loadWallet } from '../src/client/client-config.ts';
import { CodecPool } from '../src/pool/codec-pool.ts';
import { startDaemon } from '../src/gateway/daemon.ts';
import { publishSite, type PublishSiteResult, type SiteChain } from '../src/site/publish-site.ts';
import { argValue, machineLine, makeData, median, writeReport } from './harness.ts';

const argv = process.argv.slice(2);
const fileCount = Number(argValue(argv, '--files') ?? 2000);
const changed = Number(argValue(argv, '--changed') ?? 20);
const nShards = Number(argValue(argv, '--shards') ?? 100);
const nodes = Number(argValue(argv, '--nodes') ?? 4);
const runs = Number(argValue(argv, '--runs') ?? 5);
const FIXTURE = new URL('../test/fixtures/site/', import.meta.url).pathname;
const CHROMIUM = '/usr/bin/chromium';
console.log(`# Tusk sites: ${fileCount} files, ${nodes} nodes, ${nShards} shards — ${machineLine()}`);

/** The chain client with every method call counted by name (submit = the site transactions). */
function counted(chain: RemoteChain): { chain: SiteChain; calls: Map<string, number>; txBytes: number[] } {
  const calls = new Map<string, number>();
  const txBytes: number[] = [];
  const proxy = new Proxy(chain, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        calls.set(String(prop), (calls.get(String(prop)) ?? 0) + 1);
        if (prop === 'submit') txBytes.push((args[0] as { bytes: Uint8Array }).bytes.length);
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { chain: proxy as unknown as SiteChain, calls, txBytes };
}

const TX_METHODS = new Set(['reserveSpace', 'registerBlob', 'certifyBlob', 'setBlobAttribute', 'extendBlob', 'submit']);

function summary(calls: Map<string, number>) {
  let tx = 0,
    reads = 0;
  for (const [k, n] of calls) {
    if (k === 'chainId') continue;
    if (TX_METHODS.has(k)) tx += n;
    else reads += n;
  }
  return { transactions: tx, reads, byMethod: Object.fromEntries([...calls].sort()) };
}

const dir = await mkdtemp(join(tmpdir(), 'tusk-bench-site-'));
const net = await startDevNetwork({ dataDir: join(dir, 'net'), nodes, nShards, walletFunds: 10n ** 15n });
const pool = new CodecPool({ threads: 2 });
const report: Record<string, unknown> = { files: fileCount, nodes, nShards };
try {
  const base = new RemoteChain({ url: net.chainUrl });
  const wallet = await loadWallet(join(dir, 'net', 'wallet.key'));
  const address = wallet.toSuiAddress();

  // The site: the sample site plus generated files in nested folders.
  const site = join(dir, 'site');
  await cp(FIXTURE, site, { recursive: true });
  let bytes = 0;
  for (let i = 0; i < fileCount; i++) {
    const folder = join(site, 'pages', `s${i % 20}`, `t${i % 7}`);
    await mkdir(folder, { recursive: true });
    const size = 100 + ((i * 7919) % (40 * 1024));
    bytes += size;
    await writeFile(join(folder, `page-${i}.html`), makeData(size, i));
  }
  report.siteBytes = bytes;

  const publish = async (siteId?: string): Promise<{ r: PublishSiteResult; row: Record<string, unknown> }> => {
    const { chain, calls, txBytes } = counted(base);
    const before = await base.balance(address);
    const t0 = performance.now();
    const r = await publishSite(site, { chain, signer: wallet, epochs: 2, pool, siteId });
    const seconds = (performance.now() - t0) / 1000;
    const spent = before - (await base.balance(address));
    const s = summary(calls);
    return {
      r,
      row: {
        seconds: Number(seconds.toFixed(2)),
        uploaded: r.uploaded.length,
        unchanged: r.unchanged.length,
        quilts: r.quilts.length,
        chainTransactions: s.transactions,
        chainReads: s.reads,
        siteTransactionBytes: txBytes.length > 0 ? Math.max(...txBytes) : 0,
        walSpentFrost: String(spent),
        storageCostFrost: String(r.cost),
        byMethod: s.byMethod,
      },
    };
  };

  const first = await publish();
  report.publish = first.row;
  console.log(`publish: ${JSON.stringify(first.row)}`);

  for (let i = 0; i < changed; i++) {
    const j = (i * 97) % fileCount;
    await writeFile(join(site, 'pages', `s${j % 20}`, `t${j % 7}`, `page-${j}.html`), makeData(500 + i, 1_000_000 + i));
  }
  const upd = await publish(first.r.siteObjectId);
  report.update = { changedFiles: changed, ...upd.row };
  console.log(`update (${changed} files changed): ${JSON.stringify(upd.row)}`);

  // --- page loads through the portal
  const paths = ['/', '/style.css', '/app.js', '/data.json', '/img/logo.png'];
  const b36 = first.r.base36Id;
  const haveChromium = existsSync(CHROMIUM);
  const { chromium } = await import('playwright-core');
  const browser = haveChromium
    ? await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--no-sandbox', '--mute-audio', '--host-resolver-rules=MAP *.localhost 127.0.0.1'],
      })
    : null;
  if (!browser) console.warn(`*** ${CHROMIUM} not found: page loads measured with plain HTTP GETs of ${paths.join(' ')} ***`);
  const load = async (port: string, how: 'chromium' | 'http'): Promise<number> => {
    const url = `http://${b36}.localhost:${port}/`;
    const t0 = performance.now();
    if (browser && how === 'chromium') {
      const ctx = await browser.newContext();
      const page = await ctx.newPage();
      await page.goto(url);
      await page.waitForSelector('body[data-ready="yes"]');
      const ms = performance.now() - t0;
      await ctx.close();
      return ms;
    }
    for (const p of paths) {
      const res = await fetch(`http://127.0.0.1:${port}/site/${b36}${p}`);
      await res.arrayBuffer();
    }
    return performance.now() - t0;
  };
  const hows = browser ? (['chromium', 'http'] as const) : (['http'] as const);
  const pageLoad: Record<string, unknown> = {};
  for (const how of hows) {
    const cold: number[] = [];
    const warm: number[] = [];
    for (let i = 0; i < runs; i++) {
      const gw = await startDaemon({ mode: 'aggregator', chain: base, pool, bindAddress: '127.0.0.1:0', metricsAddress: null });
      const port = new URL(gw.url).port;
      cold.push(await load(port, how));
      for (let j = 0; j < 3; j++) warm.push(await load(port, how));
      await gw.close();
    }
    pageLoad[how] = {
      coldMsMedian: Number(median(cold).toFixed(1)),
      warmMsMedian: Number(median(warm).toFixed(1)),
      coldMs: cold.map((x) => Number(x.toFixed(1))),
      warmMs: warm.map((x) => Number(x.toFixed(1))),
    };
    const what = how === 'chromium' ? 'chromium page load (new context, until the module script ran)' : `HTTP GETs of ${paths.join(' ')}`;
    console.log(`${what}: cold median ${median(cold).toFixed(1)} ms, warm median ${median(warm).toFixed(1)} ms`);
  }
  await browser?.close();
  report.pageLoad = pageLoad;
  writeReport(argv, 'site', report);
} finally {
  await pool.close();
  await net.stop();
  await rm(dir, { recursive: true, force: true });
}
