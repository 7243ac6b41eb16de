/**
 * A real browser against the gateway: Debian's chromium, driven by playwright-core, on a page
 * served from another origin. A media element plays a blob served by the aggregator and seeks
 * into it (the browser's Range requests answered with 206), and `fetch()` reads a blob
 * cross-origin, including its ETag (exposed by Access-Control-Expose-Headers).
 * Skips LOUDLY when /usr/bin/chromium is missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import { chromium, type Browser } from 'playwright-core';
import { startDevNetwork, type DevNetwork } from '../../src/network/dev-network.ts';
import { RemoteChain } from '../../src/chain/remote/client.ts';
import { loadWallet } from '../../src/client/client-config.ts';
import { CodecPool } from '../../src/pool/codec-pool.ts';
import { startDaemon, type Daemon } from '../../src/gateway/daemon.ts';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  console.warn(`\n\n*** SKIPPED: ${CHROMIUM} not found — the real-browser gateway tests did NOT run (apt-get install chromium) ***\n`);
}

/** A PCM WAV file: `seconds` of a 440 Hz tone, 44.1 kHz stereo 16-bit (~176 KB per second). */
function wav(seconds: number): Uint8Array {
  const rate = 44_100,
    channels = 2,
    frames = rate * seconds;
  const data = frames * channels * 2;
  const b = Buffer.alloc(44 + data);
  b.write('RIFF', 0);
  b.writeUInt32LE(36 + data, 4);
  b.write('WAVE', 8);
  b.write('fmt ', 12);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(channels, 22);
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(rate * channels * 2, 28);
  b.writeUInt16LE(channels * 2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36);
  b.writeUInt32LE(data, 40);
  for (let i = 0; i < frames; i++) {
    const v = Math.round(Math.sin((2 * Math.PI * 440 * i) / rate) * 8000);
    b.writeInt16LE(v, 44 + i * 4);
    b.writeInt16LE(v, 46 + i * 4);
  }
  return new Uint8Array(b);
}

describe.skipIf(!haveChromium)('a real browser (chromium) against the gateway', () => {
  let net: DevNetwork;
  let dir: string;
  let pool: CodecPool;
  let gw: Daemon;
  let page: Server;
  let pageUrl: string;
  let browser: Browser;
  const ranges: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tusk-gw-browser-'));
    net = await startDevNetwork({ dataDir: join(dir, 'net'), nodes: 4, nShards: 20 });
    const chain = new RemoteChain({ url: net.chainUrl });
    pool = new CodecPool({ threads: 1 });
    gw = await startDaemon({
      mode: 'daemon',
      chain,
      signer: await loadWallet(join(dir, 'net', 'wallet.key')),
      pool,
      bindAddress: '127.0.0.1:0',
      metricsAddress: null,
      maxBodySize: 16 * 2 ** 20,
    });
    // The page comes from another origin (another port): every gateway request is cross-origin.
    page = createServer((req, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!DOCTYPE html><title>t</title><body></body>'),
    );
    await new Promise<void>((r) => page.listen(0, '127.0.0.1', () => r()));
    pageUrl = `http://127.0.0.1:${(page.address() as { port: number }).port}/`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required', '--mute-audio'],
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    page?.close();
    await gw?.close();
    await pool?.close();
    await net?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function store(data: Uint8Array): Promise<string> {
    const res = await fetch(`${gw.url}/v1/blobs`, { method: 'PUT', body: data as Uint8Array<ArrayBuffer> });
    return (await res.json()).newlyCreated.blobObject.blobId;
  }

  it('a media element plays a blob and seeks into it with Range requests', async () => {
    const id = await store(wav(40)); // ~7 MB: the browser fetches around the seek target, not the whole file
    const tab = await browser.newPage();
    tab.on('request', (r) => {
      if (r.url().includes(id)) void r.allHeaders().then((h) => h.range && ranges.push(h.range));
    });
    const statuses: number[] = [];
    tab.on('response', (r) => {
      if (r.url().includes(id)) statuses.push(r.status());
    });
    await tab.goto(pageUrl);
    const result = await tab.evaluate(async (src) => {
      const v = document.createElement('video');
      v.preload = 'auto';
      v.src = src;
      document.body.append(v);
      await new Promise((resolve, reject) => {
        v.onloadedmetadata = resolve;
        v.onerror = () => reject(new Error(`media error ${v.error?.code}`));
      });
      await v.play();
      await new Promise((r) => setTimeout(r, 300));
      const played = v.currentTime;
      v.currentTime = 35;
      await new Promise((resolve) => (v.onseeked = resolve));
      await new Promise((r) => setTimeout(r, 300));
      return {
        duration: v.duration,
        played,
        after: v.currentTime,
        seekable: v.seekable.length > 0 ? v.seekable.end(0) : 0,
        error: v.error?.code ?? null,
      };
    }, `${gw.url}/v1/blobs/${id}`);
    expect(result.error).toBeNull();
    expect(result.duration).toBeCloseTo(40, 0);
    expect(result.played).toBeGreaterThan(0);
    expect(result.after).toBeGreaterThanOrEqual(35);
    expect(result.seekable).toBeCloseTo(40, 0);
    console.log(`browser Range requests: ${ranges.join(', ')}`);
    expect(ranges.length).toBeGreaterThan(0);
    expect(ranges[0]).toMatch(/^bytes=0-/);
    expect(statuses).toContain(206);
    // The seek was served by a range that starts inside the blob.
    expect(ranges.some((r) => !r.startsWith('bytes=0-'))).toBe(true);
    await tab.close();
  });

  it('fetch() reads a blob cross-origin, with its ETag and Content-Range visible to the page', async () => {
    const text = 'hello from the aggregator';
    const id = await store(new TextEncoder().encode(text));
    const tab = await browser.newPage();
    await tab.goto(pageUrl);
    const got = await tab.evaluate(async (url) => {
      const r = await fetch(url);
      const part = await fetch(url, { headers: { range: 'bytes=6-9' } });
      return {
        status: r.status,
        etag: r.headers.get('etag'),
        body: await r.text(),
        partStatus: part.status,
        contentRange: part.headers.get('content-range'),
        part: await part.text(),
        origin: location.origin,
      };
    }, `${gw.url}/v1/blobs/${id}`);
    expect(got.origin).not.toBe(new URL(gw.url).origin);
    expect(got).toMatchObject({
      status: 200,
      etag: id,
      body: text,
      partStatus: 206,
      contentRange: `bytes 6-9/${text.length}`,
      part: 'from',
    });
    await tab.close();
  });
});
