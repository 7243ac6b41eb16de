/**
 * Site units without a network: base36 object IDs, ws-resources.json's strict schema, header
 * precedence and defaults, ignore globs, path resolution (index.html, redirects, routes), and
 * the directory scan's refusals (symlink leaving the directory, symlink loop).
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base36ToObjectId, objectIdToBase36 } from '../../src/site/base36.ts';
import { headersFor, parseWsResources, WsResourcesError } from '../../src/site/ws-resources.ts';
import { candidatePaths, matchRedirect, matchRoute } from '../../src/site/site-routing.ts';
import { scanSiteDirectory } from '../../src/site/site-dir.ts';
import { parsePatchInternalId, patchInternalId } from '../../src/site/publish-site.ts';

describe('base36 object IDs', () => {
  it('round-trips, keeps leading zero bytes as 0s, is case-insensitive, refuses other lengths', () => {
    const id = `0x${'ab'.repeat(32)}`;
    const b36 = objectIdToBase36(id);
    expect(b36).toBe(BigInt(id).toString(36));
    expect(base36ToObjectId(b36)).toBe(id);
    expect(base36ToObjectId(b36.toUpperCase())).toBe(id);
    const lead = `0x0000${'ff'.repeat(30)}`;
    expect(objectIdToBase36(lead).startsWith('00')).toBe(true);
    expect(base36ToObjectId(objectIdToBase36(lead))).toBe(lead);
    expect(objectIdToBase36(lead).length).toBeLessThanOrEqual(50);
    expect(base36ToObjectId('abc')).toBeNull();
    expect(base36ToObjectId('not-base36')).toBeNull();
    expect(base36ToObjectId('z'.repeat(51))).toBeNull();
  });
});

describe('ws-resources.json', () => {
  it('reads every key and refuses unknown ones, wrong types and bad status codes', () => {
    const ws = parseWsResources(
      JSON.stringify({
        headers: { '/*.css': { 'Cache-Control': 'max-age=1' }, '/a/*.css': { 'X-A': '1' } },
        routes: { '/app/*': '/index.html' },
        redirects: { '/old': { location: '/new', status_code: 308 } },
        metadata: { description: 'd', project_url: 'https://x' },
        site_name: 'n',
        object_id: '0x1',
        ignore: ['/secret/*'],
      }),
    );
    expect(ws.routes).toEqual([['/app/*', '/index.html']]);
    expect(ws.redirects).toEqual([['/old', { location: '/new', statusCode: 308 }]]);
    expect(ws.metadata).toEqual({ description: 'd', projectUrl: 'https://x' });
    expect(headersFor(ws, '/b.css')).toEqual([
      ['content-type', 'text/css'],
      ['content-encoding', 'identity'],
      ['cache-control', 'max-age=1'],
    ]);
    // The glob with more segments wins, without merging the other one's headers.
    expect(headersFor(ws, '/a/b.css')).toEqual([
      ['content-type', 'text/css'],
      ['content-encoding', 'identity'],
      ['x-a', '1'],
    ]);
    expect(headersFor(ws, '/x.unknownext')[0]).toEqual(['content-type', 'application/octet-stream']);
    for (const bad of [
      '{"header": {}}',
      '{"routes": {"/a": 1}}',
      '{"redirects": {"/a": {"location": "/b", "status_code": 200}}}',
      '{"redirects": {"/a": {"location": "/b", "status_code": 301, "x": 1}}}',
      '{"metadata": {"title": "x"}}',
      '{"ignore": "/a"}',
      '{"object_id": "nope"}',
      '[1]',
      '{not json',
    ]) {
      expect(() => parseWsResources(bad), bad).toThrow(WsResourcesError);
    }
  });
});

describe('path resolution', () => {
  it('index.html for directories, redirect and route specificity', () => {
    expect(candidatePaths('/')).toEqual(['/index.html']);
    expect(candidatePaths('/docs/')).toEqual(['/docs/index.html', '/docs']);
    expect(candidatePaths('/docs')).toEqual(['/docs', '/docs/index.html']);
    const r = [
      ['/blog/*', { location: '/b1', statusCode: 301 }],
      ['/blog/post', { location: '/b2', statusCode: 302 }],
      ['/**', { location: '/all', statusCode: 307 }],
    ] as const;
    expect(matchRedirect(r, '/blog/post')?.location).toBe('/b2');
    expect(matchRedirect(r, '/blog/other')?.location).toBe('/b1');
    expect(matchRedirect(r, '/blog/a/b')?.location).toBe('/all');
    expect(matchRedirect(null, '/x')).toBeNull();
    const routes = [
      ['/app/*', '/index.html'],
      ['/app/admin/*', '/admin.html'],
    ] as const;
    expect(matchRoute(routes, '/app/admin/users')).toBe('/admin.html');
    expect(matchRoute(routes, '/app/x/y')).toBe('/index.html');
    expect(matchRoute(routes, '/other')).toBeNull();
  });

  it('patch internal IDs as the site-builder writes them', () => {
    expect(patchInternalId(3, 5)).toBe('0x0103000500');
    expect(parsePatchInternalId('0x0103000500')).toEqual({ start: 3, end: 5 });
    expect(parsePatchInternalId('0x02')).toBeNull();
  });
});

describe('scanning a site directory', () => {
  it('lists files with resource paths, skips ws-resources.json and ignored files; refuses escaping links and loops', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tusk-site-scan-'));
    try {
      const site = join(dir, 'site');
      await mkdir(join(site, 'a'), { recursive: true });
      await writeFile(join(site, 'index.html'), 'x');
      await writeFile(join(site, '.hidden'), 'h');
      await writeFile(join(site, 'a', 'b.txt'), 'b');
      await writeFile(join(site, 'skip.tmp'), 's');
      await writeFile(join(site, 'ws-resources.json'), '{"ignore": ["/*.tmp"]}');
      await symlink(join(site, 'a', 'b.txt'), join(site, 'link.txt'));
      const s = await scanSiteDirectory(site);
      expect(s.files.map((f) => f.path)).toEqual(['/.hidden', '/a/b.txt', '/index.html', '/link.txt']);
      expect(s.ignored).toEqual(['/skip.tmp']);

      await writeFile(join(dir, 'outside.txt'), 'secret');
      await symlink(join(dir, 'outside.txt'), join(site, 'escape.txt'));
      await expect(scanSiteDirectory(site)).rejects.toThrow(/leads outside the site directory/);
      await rm(join(site, 'escape.txt'));

      await symlink(join(site, 'a'), join(site, 'a', 'loop'));
      await expect(scanSiteDirectory(site)).rejects.toThrow(/symlink loop/);
      await rm(join(site, 'a', 'loop'));
      await symlink(join(site, 'self1'), join(site, 'self2'));
      await symlink(join(site, 'self2'), join(site, 'self1'));
      await expect(scanSiteDirectory(site)).rejects.toThrow(/symlink loop/);
      await rm(join(site, 'self1'));
      await rm(join(site, 'self2'));

      await writeFile(join(site, 'ws-resources.json'), '{"ignore": ["/*.tmp"], "extra": 1}');
      await expect(scanSiteDirectory(site)).rejects.toThrow(/unknown field `extra`/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
