/**
 * The Walrus Sites module of the local chain, in process and through the chain server: a site
 * created and updated in one transaction each, Move's abort rules (nothing applied on abort),
 * ownership, burn, events, and the remote reads equal to the local ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { LocalChain } from '../../src/chain/local/local-chain.ts';
import { startChainServer, type ChainServer } from '../../src/chain/remote/server.ts';
import { RemoteChain } from '../../src/chain/remote/client.ts';
import { burnSite, createSite, updateSite, type SiteResource } from '../../src/chain/site-objects.ts';
import { ChainAbortError } from '../../src/errors.ts';

let local: LocalChain;
let server: ChainServer;
let remote: RemoteChain;
const alice = Ed25519Keypair.generate();
const bob = Ed25519Keypair.generate();

const res = (path: string, fill = 1, headers: [string, string][] = [['content-type', 'text/html']]): SiteResource => ({
  path,
  headers,
  blobId: new Uint8Array(32).fill(fill),
  blobHash: new Uint8Array(32).fill(fill + 100),
  range: null,
});

beforeAll(async () => {
  local = await LocalChain.open({ path: ':memory:', nShards: 10 });
  server = await startChainServer({ chain: local, host: '127.0.0.1', port: 0 });
  remote = new RemoteChain({ url: server.url });
});
afterAll(async () => {
  await server?.close();
  await local?.close();
});

describe('sites on the local chain', () => {
  let siteId: string;

  it('createSite applies every edit in one transaction and emits SiteCreated', async () => {
    const r = await createSite(remote, alice, 'My site', [
      { op: 'addResource', resource: res('/index.html', 1) },
      { op: 'addResource', resource: { ...res('/video.webm', 2), range: { start: 10, end: null } } },
      { op: 'setRoutes', routes: [['/app/*', '/index.html']] },
      { op: 'setRedirects', redirects: [['/old', { location: '/index.html', statusCode: 301 }]] },
      { op: 'setMetadata', metadata: { description: 'a test', creator: 'me' } },
    ]);
    siteId = r.site.id;
    expect(r.site).toMatchObject({ owner: alice.toSuiAddress(), name: 'My site', resourceCount: 2, version: 1, description: 'a test' });
    expect(r.events.map((e) => e.event)).toEqual([{ type: 'SiteCreated', siteId }]);
    expect(await remote.getSite(siteId)).toEqual(await local.getSite(siteId));
    expect(await remote.siteResources(siteId)).toEqual(await local.siteResources(siteId));
    expect((await remote.siteResource(siteId, '/video.webm'))?.range).toEqual({ start: 10, end: null });
    expect(await remote.siteResource(siteId, '/nope')).toBeNull();
    expect((await remote.sitesOwnedBy(alice.toSuiAddress())).map((s) => s.id)).toEqual([siteId]);
  });

  it('updateSite: an aborting edit leaves the site untouched; a good update emits SiteUpdated with the paths', async () => {
    const before = await remote.siteResources(siteId);
    const aborts: [string, Parameters<typeof updateSite>[3]][] = [
      [
        'EFieldAlreadyExists',
        [
          { op: 'removeResource', path: '/video.webm' },
          { op: 'addResource', resource: res('/index.html') },
        ],
      ],
      ['EFieldDoesNotExist', [{ op: 'removeResource', path: '/absent' }]],
      [
        'EKeyAlreadyExists',
        [
          {
            op: 'addResource',
            resource: res('/x', 1, [
              ['a', '1'],
              ['a', '2'],
            ]),
          },
        ],
      ],
      ['EIncorrectRange', [{ op: 'addResource', resource: { ...res('/y'), range: { start: 5, end: 5 } } }]],
      ['EIncorrectRange', [{ op: 'addResource', resource: { ...res('/y'), range: { start: null, end: null } } }]],
      ['EInvalidStatusCode', [{ op: 'setRedirects', redirects: [['/a', { location: '/b', statusCode: 200 }]] }]],
    ];
    for (const [code, ops] of aborts) {
      await expect(updateSite(remote, alice, siteId, ops)).rejects.toMatchObject({ code });
    }
    await expect(updateSite(remote, bob, siteId, [{ op: 'removeResource', path: '/index.html' }])).rejects.toMatchObject({
      code: 'ENotOwner',
    });
    expect(await remote.siteResources(siteId)).toEqual(before);
    expect((await remote.getSite(siteId))?.version).toBe(1);

    const r = await updateSite(remote, alice, siteId, [
      { op: 'removeResource', path: '/index.html' },
      { op: 'addResource', resource: res('/index.html', 7) },
      { op: 'addResource', resource: res('/new.css', 8) },
      { op: 'setRoutes', routes: null },
    ]);
    expect(r.site.version).toBe(2);
    expect(r.site.routes).toBeNull();
    expect(r.events.map((e) => e.event)).toEqual([{ type: 'SiteUpdated', siteId, version: 2, paths: ['/index.html', '/new.css'] }]);
    expect((await remote.siteResource(siteId, '/index.html'))?.blobId).toEqual(new Uint8Array(32).fill(7));
  });

  it('burnSite needs routes and redirects gone (Move rule), then removes the site and its resources', async () => {
    await expect(burnSite(remote, alice, siteId)).rejects.toBeInstanceOf(ChainAbortError);
    await expect(burnSite(remote, alice, siteId)).rejects.toMatchObject({ code: 'ERoutesOrRedirectsExist' });
    await updateSite(remote, alice, siteId, [{ op: 'setRedirects', redirects: null }]);
    await expect(burnSite(remote, bob, siteId)).rejects.toMatchObject({ code: 'ENotOwner' });
    const r = await burnSite(remote, alice, siteId);
    expect(r.events.map((e) => e.event)).toEqual([{ type: 'SiteBurned', siteId }]);
    expect(await remote.getSite(siteId)).toBeNull();
    expect(await remote.siteResources(siteId)).toEqual([]);
    await expect(updateSite(remote, alice, siteId, [])).rejects.toMatchObject({ code: 'EObjectNotFound' });
  });
});
