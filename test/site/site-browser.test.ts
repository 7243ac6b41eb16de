/**
 * A real browser on a published site: the sample site (test/fixtures/site: HTML, CSS, an ES
 * module, JSON, a PNG, a WebM video, an SPA route, a 404 page) is published to a `tusk dev`
 * network of processes and opened in Debian's chromium (playwright-core) through the gateway's
 * portal at `http://<base36>.localhost:<port>/`. The rendering must equal the same directory
 * served from disk (screenshots compared byte for byte), the SPA route must resolve, the video
 * must seek (206 answers), a missing path must show the site's 404 page, and an update must
 * change what the browser sees while storing only the changed files.
 * Skips LOUDLY when /usr/bin/chromium is missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTestNetwork, type TestNetwork } from '../network/test-network.ts';
import { startDaemon, type Daemon } from '../../src/gateway/daemon.ts';
import { publishSite } from '../../src/site/publish-site.ts';
import { contentTypeOf } from '../../src/site/ws-resources.ts';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  console.warn(`\n\n*** SKIPPED: ${CHROMIUM} not found — the real-browser site tests did NOT run (apt-get install chromium) ***\n`);
}
const FIXTURE = new URL('../fixtures/site/', import.meta.url).pathname;

describe.skipIf(!haveChromium)('a published site in a real browser (chromium)', () => {
  let t: TestNetwork;
  let gw: Daemon;
  let work: string;
  let siteDir: string;
  let disk: Server;
  let diskUrl: string;
  let browser: Browser;
  let siteUrl: string;
  let siteId: string;

  beforeAll(async () => {
    t = await startTestNetwork('tusk-site-browser-', { nodes: 4, nShards: 20 });
    gw = await startDaemon({
      mode: 'daemon',
      chain: t.chain,
      signer: t.wallet,
      pool: t.pool,
      bindAddress: '127.0.0.1:0',
      metricsAddress: null,
    });
    work = await mkdtemp(join(tmpdir(), 'tusk-site-browser-dir-'));
    siteDir = join(work, 'site');
    await cp(FIXTURE, siteDir, { recursive: true });
    const r = await publishSite(siteDir, { chain: t.chain, signer: t.wallet, epochs: 2, pool: t.pool });
    siteId = r.siteObjectId;
    siteUrl = `http://${r.base36Id}.localhost:${new URL(gw.url).port}`;
    // The reference: the same directory served straight from disk.
    disk = createServer(async (req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      const file = normalize(join(siteDir, path === '/' ? 'index.html' : path));
      try {
        const body = await readFile(file);
        res.writeHead(200, { 'content-type': contentTypeOf(file) }).end(body);
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((ok) => disk.listen(0, '127.0.0.1', () => ok()));
    diskUrl = `http://127.0.0.1:${(disk.address() as { port: number }).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--mute-audio', '--host-resolver-rules=MAP *.localhost 127.0.0.1', '--force-device-scale-factor=1'],
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    disk?.close();
    await gw?.close();
    await t?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function open(url: string): Promise<{ page: Page; status: number }> {
    const page = await browser.newPage({ viewport: { width: 640, height: 480 } });
    const res = await page.goto(url);
    await page.waitForSelector('body[data-ready="yes"], #missing', { timeout: 20_000 });
    return { page, status: res!.status() };
  }

  /** A screenshot with the video hidden (its first frame's decode timing is not part of the page). */
  async function shot(page: Page): Promise<Buffer> {
    await page.addStyleTag({ content: 'video { visibility: hidden !important }' });
    await page.evaluate(() => document.fonts.ready);
    await page.waitForFunction(() => (document.getElementById('logo') as HTMLImageElement).complete);
    return page.screenshot({ fullPage: true });
  }

  it('renders exactly as the same directory served from disk: CSS, module script, fetch, image', async () => {
    const { page, status } = await open(`${siteUrl}/`);
    expect(status).toBe(200);
    const state = await page.evaluate(() => ({
      title: document.title,
      color: getComputedStyle(document.querySelector('h1')!).color,
      image: (document.getElementById('logo') as HTMLImageElement).naturalWidth,
      data: document.getElementById('data')!.textContent,
      route: document.getElementById('route')!.textContent,
    }));
    expect(state).toEqual({
      title: 'Tusk sample site',
      color: 'rgb(20, 90, 160)',
      image: 16,
      data: 'data: hello from the site',
      route: 'route: /',
    });
    const fromSite = await shot(page);
    const { page: ref } = await open(`${diskUrl}/`);
    const fromDisk = await shot(ref);
    expect(fromSite.length).toBeGreaterThan(1000);
    expect(Buffer.compare(fromSite, fromDisk)).toBe(0);
    await page.close();
    await ref.close();
  }, 60_000);

  it('resolves an SPA route, shows the site 404 page for a missing path', async () => {
    const { page, status } = await open(`${siteUrl}/app/settings/profile`);
    expect(status).toBe(200);
    expect(await page.textContent('#route')).toBe('route: /app/settings/profile');
    expect(await page.textContent('#data')).toBe('data: hello from the site');
    await page.close();
    const missing = await open(`${siteUrl}/no/such/page`);
    expect(missing.status).toBe(404);
    expect(await missing.page.textContent('#missing')).toBe('This page is not on the site');
    await missing.page.close();
  }, 60_000);

  it('plays the video and seeks in it (the portal answers the ranges with 206)', async () => {
    const page = await browser.newPage();
    const statuses: number[] = [];
    page.on('response', (r) => {
      if (r.url().endsWith('/media/clip.webm')) statuses.push(r.status());
    });
    await page.goto(`${siteUrl}/`);
    const result = await page.evaluate(async () => {
      const v = document.getElementById('clip') as HTMLVideoElement;
      v.preload = 'auto';
      if (v.readyState < 1)
        await new Promise((ok, ko) => ((v.onloadedmetadata = ok), (v.onerror = () => ko(new Error(`media error ${v.error?.code}`)))));
      await v.play();
      await new Promise((r) => setTimeout(r, 200));
      v.pause();
      v.currentTime = 2.5;
      await new Promise((r) => (v.onseeked = r));
      return { after: v.currentTime, error: v.error?.code ?? null, width: v.videoWidth };
    });
    expect(result.error).toBeNull();
    expect(result.width).toBe(160);
    expect(result.after).toBeCloseTo(2.5, 0);
    expect(statuses).toContain(206);
    await page.close();
  }, 60_000);

  it('an update changes what the browser sees and stores only the changed files', async () => {
    await writeFile(join(siteDir, 'index.html'), (await readFile(join(siteDir, 'index.html'), 'utf8')).replace('version 1', 'version 2'));
    await writeFile(
      join(siteDir, 'style.css'),
      (await readFile(join(siteDir, 'style.css'), 'utf8')).replace('rgb(20, 90, 160)', 'rgb(160, 20, 20)'),
    );
    const r = await publishSite(siteDir, { chain: t.chain, signer: t.wallet, epochs: 2, pool: t.pool, siteId });
    expect(r.uploaded).toEqual(['/index.html', '/style.css']);
    expect(r.unchanged).toHaveLength(6); // 404.html, app.js, data.json, docs/index.html, img/logo.png, media/clip.webm
    expect(r.quilts).toEqual([{ quiltId: expect.any(String), files: 2 }]);
    const page = await browser.newPage();
    const deadline = Date.now() + 15_000;
    let seen = { version: '', color: '' };
    while (Date.now() < deadline) {
      await page.goto(`${siteUrl}/`);
      await page.waitForSelector('body[data-ready="yes"]');
      seen = await page.evaluate(() => ({
        version: document.getElementById('version')!.textContent!,
        color: getComputedStyle(document.querySelector('h1')!).color,
      }));
      if (seen.version === 'version 2' && seen.color === 'rgb(160, 20, 20)') break;
      await new Promise((ok) => setTimeout(ok, 250));
    }
    expect(seen).toEqual({ version: 'version 2', color: 'rgb(160, 20, 20)' });
    await page.close();
  }, 120_000);
});
