/**
 * Sites end to end over real processes and HTTP: `tusk site publish|update|list|info|destroy`
 * against a `tusk dev` network, and the gateway's portal answering over loopback — subdomain
 * and path forms, index.html for directories, routes, redirects, the site's 404 page, headers,
 * ETag/304, ranges, a hash mismatch refused with 422, an update seen through the event-driven
 * cache, and bad input refused before anything is stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestNetwork, type TestNetwork } from '../network/test-network.ts';
import { startDaemon, type Daemon } from '../../src/gateway/daemon.ts';
import { updateSite } from '../../src/chain/site-objects.ts';
import { runTusk } from '../helpers/cli.ts';

const FIXTURE = new URL('../fixtures/site/', import.meta.url).pathname;

let t: TestNetwork;
let gw: Daemon;
let work: string;
let cfg: string[];

interface Got {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** GET through the portal with an explicit Host (subdomain form). */
function get(host: string | null, path: string, headers: Record<string, string> = {}): Promise<Got> {
  const u = new URL(gw.url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, path, headers: { ...headers, host: host ? `${host}:${u.port}` : u.host } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function until<T>(what: string, f: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v).slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  t = await startTestNetwork('tusk-site-net-', { nodes: 4, nShards: 20 });
  cfg = ['--config', t.net.configPath];
  gw = await startDaemon({
    mode: 'daemon',
    chain: t.chain,
    signer: t.wallet,
    pool: t.pool,
    bindAddress: '127.0.0.1:0',
    metricsAddress: null,
  });
  work = await mkdtemp(join(tmpdir(), 'tusk-site-dir-'));
  await cp(FIXTURE, join(work, 'site'), { recursive: true });
}, 120_000);

afterAll(async () => {
  await gw?.close();
  await t?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('tusk site and the portal', () => {
  let siteId: string;
  let b36: string;
  let host: string;

  it('publish stores the files in a quilt and creates the site in one call (--json: siteObjectId, base36Id)', async () => {
    const r = await runTusk(['site', 'publish', join(work, 'site'), '--epochs', '2', '--json', ...cfg]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.siteObjectId).toMatch(/^0x[0-9a-f]{64}$/);
    expect(out.base36Id).toBe(BigInt(out.siteObjectId).toString(36));
    expect(out.uploaded).toEqual([
      '/404.html',
      '/app.js',
      '/data.json',
      '/docs/index.html',
      '/img/logo.png',
      '/index.html',
      '/media/clip.webm',
      '/style.css',
    ]);
    expect(out.ignored).toEqual(['/notes.draft']);
    expect(out.quilts).toHaveLength(1);
    siteId = out.siteObjectId;
    b36 = out.base36Id;
    host = `${b36}.localhost`;
    const info = JSON.parse((await runTusk(['site', 'info', b36, '--json', ...cfg])).stdout);
    expect(info).toMatchObject({ name: 'Tusk sample', description: "Tusk's sample site", routes: [['/app/*', '/index.html']] });
    expect(info.resources.find((x: { path: string }) => x.path === '/index.html').headers['x-site-test']).toBe('yes');
    const list = JSON.parse((await runTusk(['site', 'list', '--json', ...cfg])).stdout);
    expect(list.map((s: { siteObjectId: string }) => s.siteObjectId)).toContain(siteId);
  }, 120_000);

  it('the portal serves the site: index, directories, routes, redirects, 404 page, headers, ETag/304, ranges', async () => {
    const index = await get(host, '/');
    expect(index.status).toBe(200);
    expect(index.body).toContain('version 1');
    expect(index.headers['content-type']).toBe('text/html');
    expect(index.headers['x-site-test']).toBe('yes');
    expect(index.headers['x-wal-quilt-patch-internal-id']).toBeUndefined();
    const etag = index.headers.etag as string;
    expect(etag).toMatch(/^"[A-Za-z0-9+/=]{44}"$/);
    expect((await get(host, '/', { 'if-none-match': etag })).status).toBe(304);
    expect((await get(host, '/docs/')).body).toContain('id="docs"');
    expect((await get(host, '/docs')).body).toContain('id="docs"');
    const spa = await get(host, '/app/settings/deep');
    expect(spa.status).toBe(200);
    expect(spa.body).toContain('version 1');
    const redirect = await get(host, '/old-docs');
    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe('/docs/');
    const missing = await get(host, '/no/such/page');
    expect(missing.status).toBe(404);
    expect(missing.body).toContain('This page is not on the site');
    expect((await get(host, '/notes.draft')).status).toBe(404);
    const css = await get(host, '/style.css', { range: 'bytes=0-3' });
    expect(css.status).toBe(206);
    expect(css.body).toBe('body');
    expect(css.headers['content-range']).toMatch(/^bytes 0-3\/\d+$/);
    expect(css.headers['cache-control']).toBe('public, max-age=60');
    expect((await get(host, '/style.css', { range: 'bytes=9999-' })).status).toBe(416);
    // The path form, for hosts without wildcard DNS.
    expect((await get(null, `/site/${b36}`)).status).toBe(308);
    expect((await get(null, `/site/${b36}/`)).body).toContain('version 1');
    expect((await get(null, `/site/${b36}/data.json`)).body).toContain('hello from the site');
    // Unknown sites and non-IDs.
    expect((await get(`${'1'.repeat(40)}.localhost`, '/')).status).toBe(404);
    // The gateway's own routes are unaffected.
    expect((await get(null, '/status')).body).toBe('OK');
  }, 60_000);

  it('a resource whose bytes do not match its hash is a 422, never content', async () => {
    const index = JSON.parse((await runTusk(['site', 'info', siteId, '--json', ...cfg])).stdout).resources.find(
      (x: { path: string }) => x.path === '/index.html',
    );
    const onChain = (await t.chain.siteResource(siteId, '/index.html'))!;
    await updateSite(t.chain, t.wallet, siteId, [
      { op: 'addResource', resource: { ...onChain, path: '/forged.html', blobHash: new Uint8Array(32).fill(9) } },
    ]);
    expect(index.blobHash).not.toBe('09'.repeat(32));
    const forged = await until(
      'the forged resource',
      () => get(host, '/forged.html'),
      (g) => g.status !== 404,
    );
    expect(forged.status).toBe(422);
    expect(forged.body).not.toContain('version 1');
    expect(forged.body).toContain('SHA-256');
    // A redirect to itself is a 508, not a browser loop; HEAD answers the headers only.
    await updateSite(t.chain, t.wallet, siteId, [
      {
        op: 'setRedirects',
        redirects: [
          ['/old-docs', { location: '/docs/', statusCode: 301 }],
          ['/loop', { location: '/loop', statusCode: 302 }],
        ],
      },
    ]);
    expect(
      (
        await until(
          'the loop redirect',
          () => get(host, '/loop'),
          (g) => g.status !== 404,
        )
      ).status,
    ).toBe(508);
    const head = await new Promise<{ status: number; length: string | undefined; body: string }>((resolve, reject) => {
      const u = new URL(gw.url);
      const req = request(
        { host: u.hostname, port: u.port, path: '/style.css', method: 'HEAD', headers: { host: `${host}:${u.port}` } },
        (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode!, length: res.headers['content-length'], body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(head).toMatchObject({ status: 200, body: '' });
    expect(Number(head.length)).toBeGreaterThan(100);
    // A resource whose blob is not stored (never was, expired, or deleted): 404, not 503.
    await updateSite(t.chain, t.wallet, siteId, [
      {
        op: 'addResource',
        resource: {
          path: '/gone.html',
          headers: [['content-type', 'text/html']],
          blobId: new Uint8Array(32).fill(3),
          blobHash: new Uint8Array(32),
          range: null,
        },
      },
    ]);
    const gone = await until(
      'the resource without a blob',
      () => get(host, '/gone.html'),
      (g) => g.status !== 404 || g.body.includes('no longer stored'),
    );
    expect(gone.status).toBe(404);
    expect(gone.body).toContain('no longer stored');
  }, 60_000);

  it('update stores only the changed files, removes vanished ones, re-points header-only changes; the portal follows', async () => {
    const dir = join(work, 'site');
    await writeFile(
      join(dir, 'index.html'),
      (await (await import('node:fs/promises')).readFile(join(dir, 'index.html'), 'utf8')).replace('version 1', 'version 2'),
    );
    await writeFile(join(dir, 'extra.txt'), 'new file');
    await unlink(join(dir, 'docs', 'index.html'));
    const ws = JSON.parse(await (await import('node:fs/promises')).readFile(join(dir, 'ws-resources.json'), 'utf8'));
    ws.headers['/*.css']['Cache-Control'] = 'public, max-age=120';
    await writeFile(join(dir, 'ws-resources.json'), JSON.stringify(ws));
    const r = await runTusk(['site', 'update', dir, b36, '--epochs', '2', '--json', ...cfg]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.uploaded).toEqual(['/extra.txt', '/index.html']);
    expect(out.headersChanged).toEqual(['/style.css']);
    expect(out.removed.sort()).toEqual(['/docs/index.html', '/forged.html', '/gone.html']);
    expect(out.unchanged).toBe(5); // 404.html, app.js, data.json, img/logo.png, media/clip.webm
    expect(out.deletedBlobs).toEqual([]); // the first quilt still holds unchanged files
    await until(
      'version 2',
      () => get(host, '/'),
      (g) => g.body.includes('version 2'),
    );
    expect((await get(host, '/extra.txt')).body).toBe('new file');
    expect((await get(host, '/style.css')).headers['cache-control']).toBe('public, max-age=120');
    expect((await get(host, '/docs/')).status).toBe(404);
    // Nothing changed: no store, no chain call.
    const again = JSON.parse((await runTusk(['site', 'update', dir, siteId, '--epochs', '2', '--json', ...cfg])).stdout);
    expect(again.uploaded).toEqual([]);
    expect(again.quilts).toEqual([]);
  }, 120_000);

  it('bad input is refused with a clear error before anything is stored', async () => {
    const dir = join(work, 'bad');
    await cp(FIXTURE, dir, { recursive: true });
    await writeFile(join(dir, 'ws-resources.json'), '{"routes": {"/a": "/b"}, "colour": "blue"}');
    const before = await t.chain.balance(t.wallet.toSuiAddress());
    const r = await runTusk(['site', 'publish', dir, '--epochs', '1', ...cfg]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/ws-resources\.json: unknown field `colour`/);
    await writeFile(join(dir, 'ws-resources.json'), '{}');
    await (await import('node:fs/promises')).symlink('/etc/hostname', join(dir, 'escape'));
    const esc = await runTusk(['site', 'publish', dir, '--epochs', '1', ...cfg]);
    expect(esc.code).not.toBe(0);
    expect(esc.stderr).toMatch(/symlink leads outside the site directory/);
    expect(await t.chain.balance(t.wallet.toSuiAddress())).toBe(before);
    const usage = await runTusk(['site', 'update', dir, 'not-an-id', '--epochs', '1', ...cfg]);
    expect(usage.code).toBe(2);
  }, 60_000);

  it('destroy removes the site; the portal then answers 404', async () => {
    const r = await runTusk(['site', 'destroy', b36, '--json', ...cfg]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ destroyed: true });
    // Both quilts (the publish's and the update's) were only this site's: their Blob objects are deleted.
    expect(out.deletedBlobs).toHaveLength(2);
    const owned = await t.chain.ownedObjects(t.wallet.toSuiAddress());
    expect(owned.filter((o) => o.kind === 'blob' && out.deletedBlobs.includes(o.object.id))).toEqual([]);
    await until(
      'the site gone',
      () => get(host, '/'),
      (g) => g.status === 404,
    );
    expect(await t.chain.getSite(siteId)).toBeNull();
  }, 60_000);
});
