/**
 * The gateway's pure parts without a network: RFC 9110 range and conditional parsing, Walrus's
 * admission semantics (the upstream scenario: concurrency 2, buffer 3, 5 requests → 3 served, 2 ×
 * 429), JWT algorithms beyond HS256 and the claim rules, the cache's LRU bound, the route table.
 */
import { describe, expect, it } from 'vitest';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ifNoneMatchMatches, ifRangeAllows, parseRange } from '../../src/gateway/ranges.ts';
import { AdmissionQueue } from '../../src/gateway/admission.ts';
import { JwtAuthenticator, parseSecret } from '../../src/gateway/jwt.ts';
import { BlobCache } from '../../src/gateway/cache.ts';
import { RouteTable } from '../../src/gateway/route-table.ts';
import { ApiError, PlainError, parseQuery } from '../../src/gateway/http.ts';
import { hs256 } from './helpers.ts';

describe('Range parsing (RFC 9110 single ranges)', () => {
  it('forms, clamping, unsatisfiable and ignored headers', () => {
    expect(parseRange('bytes=0-99', 1000)).toEqual({ start: 0, end: 99 });
    expect(parseRange('bytes=990-', 1000)).toEqual({ start: 990, end: 999 });
    expect(parseRange('bytes=-10', 1000)).toEqual({ start: 990, end: 999 });
    expect(parseRange('bytes=-5000', 1000)).toEqual({ start: 0, end: 999 });
    expect(parseRange('bytes=500-5000', 1000)).toEqual({ start: 500, end: 999 });
    expect(parseRange(' bytes = 1 - 2 ', 1000)).toEqual({ start: 1, end: 2 });
    expect(parseRange('bytes=1000-', 1000)).toBe('unsatisfiable');
    expect(parseRange('bytes=-0', 1000)).toBe('unsatisfiable');
    expect(parseRange('bytes=0-', 0)).toBe('unsatisfiable');
    for (const ignored of [undefined, 'bytes=5-1', 'bytes=0-1,3-4', 'items=0-1', 'bytes=-', 'bytes=a-b'])
      expect(parseRange(ignored, 1000)).toBeNull();
  });

  it('If-Range (strong) and If-None-Match (weak, lists, *)', () => {
    expect(ifRangeAllows(undefined, 'e')).toBe(true);
    expect(ifRangeAllows('e', 'e')).toBe(true);
    expect(ifRangeAllows('"e"', 'e')).toBe(true);
    expect(ifRangeAllows('W/"e"', 'e')).toBe(false);
    expect(ifRangeAllows('Wed, 21 Oct 2015 07:28:00 GMT', 'e')).toBe(false);
    expect(ifNoneMatchMatches('"a", W/"e"', 'e')).toBe(true);
    expect(ifNoneMatchMatches('*', 'e')).toBe(true);
    expect(ifNoneMatchMatches('"a"', 'e')).toBe(false);
    expect(ifNoneMatchMatches(undefined, 'e')).toBe(false);
  });
});

describe('admission', () => {
  it("Walrus's upstream scenario: concurrency 2, buffer 3, 5 simultaneous requests → 3 served, 2 refused with 429", async () => {
    const q = new AdmissionQueue({ role: 'publisher', maxConcurrent: 2, maxBuffer: 3 });
    let running = 0,
      peak = 0;
    const work = async () => {
      peak = Math.max(peak, ++running);
      await new Promise((r) => setTimeout(r, 50));
      running--;
      return 'ok';
    };
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => q.run(work)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    const refused = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as PlainError);
    expect(refused.map((e) => e.code)).toEqual([429, 429]);
    expect(peak).toBe(2);
    expect(q.admitted).toBe(0);
    q.close();
    await expect(q.run(work)).rejects.toMatchObject({ code: 503 });
  });
});

describe('JWT', () => {
  const now = Math.floor(Date.now() / 1000);
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

  it('EdDSA and ES256 tokens verify with a DER public key; a token signed by another key is 401', () => {
    for (const [alg, type, opts] of [
      ['EdDSA', 'ed25519', {}],
      ['ES256', 'ec', { namedCurve: 'P-256' }],
    ] as const) {
      const { publicKey, privateKey } = generateKeyPairSync(type as 'ec', opts as { namedCurve: string });
      const other = generateKeyPairSync(type as 'ec', opts as { namedCurve: string }).privateKey;
      const der = `0x${publicKey.export({ format: 'der', type: 'spki' }).toString('hex')}`;
      const auth = new JwtAuthenticator({ decodeSecret: der, algorithm: alg });
      const token = (key: typeof privateKey, jti: string) => {
        const head = `${b64({ alg, typ: 'JWT' })}.${b64({ exp: now + 60, jti })}`;
        const sig =
          alg === 'EdDSA' ? sign(null, Buffer.from(head), key) : sign('sha256', Buffer.from(head), { key, dsaEncoding: 'ieee-p1363' });
        return `${head}.${sig.toString('base64url')}`;
      };
      expect(auth.authenticate(`Bearer ${token(privateKey, 'x')}`, { epochs: 1 }).claims.jti).toBe('x');
      expect(() => auth.authenticate(`Bearer ${token(other, 'y')}`, { epochs: 1 })).toThrow(
        expect.objectContaining({ reason: 'INVALID_SIGNATURE', code: 401 }),
      );
    }
  });

  it('expiring-sec, send_object_to, no-secret decoding, hex secrets', () => {
    const exp = new JwtAuthenticator({ decodeSecret: 's', expiringSec: 60 });
    expect(() => exp.authenticate(`Bearer ${hs256({ exp: now + 100, iat: now, jti: 'a' }, 's')}`, { epochs: 1 })).toThrow(
      expect.objectContaining({ reason: 'INVALID_EXPIRATION' }),
    );
    expect(exp.authenticate(`Bearer ${hs256({ exp: now + 60, iat: now, jti: 'b' }, 's')}`, { epochs: 1 }).claims.jti).toBe('b');
    const verify = new JwtAuthenticator({ decodeSecret: 's', verifyUpload: true });
    expect(() =>
      verify.authenticate(`Bearer ${hs256({ exp: now + 60, jti: 'c', send_object_to: '0x1' }, 's')}`, { epochs: 1, sendObjectTo: '0x2' }),
    ).toThrow(expect.objectContaining({ reason: 'INVALID_SEND_OBJECT_TO' }));
    expect(() => verify.authenticate(`Bearer ${hs256({ exp: now + 60, jti: 'd', max_epochs: 2 }, 's')}`, { epochs: 3 })).toThrow(
      expect.objectContaining({ reason: 'INVALID_EPOCHS' }),
    );
    expect(() =>
      verify.authenticate(`Bearer ${hs256({ exp: now + 60, jti: 'e', size: 5 }, 's')}`, { epochs: 1, contentLength: 6 }),
    ).toThrow(expect.objectContaining({ reason: 'INVALID_SIZE' }));
    // Without a secret (verify-upload only), the signature is not checked, as in Walrus.
    const open = new JwtAuthenticator({ verifyUpload: true });
    expect(open.authenticate(`Bearer ${hs256({ exp: now + 60, jti: 'f' }, 'anything')}`, { epochs: 1 }).claims.jti).toBe('f');
    expect(JwtAuthenticator.enabled({})).toBe(false);
    expect(parseSecret('0x6869').toString()).toBe('hi');
    expect(() => parseSecret('0xzz')).toThrow();
    expect(() => new JwtAuthenticator({ decodeSecret: 's' }).authenticate('Basic abc', { epochs: 1 })).toThrow(PlainError);
  });

  it('the replay cache is bounded: full → 500', () => {
    const a = new JwtAuthenticator({ decodeSecret: 's', cacheSize: 1 });
    a.authenticate(`Bearer ${hs256({ exp: now + 60, jti: 'one' }, 's')}`, { epochs: 1 });
    expect(() => a.authenticate(`Bearer ${hs256({ exp: now + 60, jti: 'two' }, 's')}`, { epochs: 1 })).toThrow(
      expect.objectContaining({ code: 500 }),
    );
  });
});

describe('cache', () => {
  it('keeps at most maxBytes, evicting the least recently used; partial files never count', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tusk-gw-cache-'));
    try {
      const cache = await BlobCache.open({ dir, maxBytes: 250 });
      const id = (c: string) => c.repeat(43);
      for (const c of ['a', 'b']) {
        const w = cache.writer(id(c), 100);
        await w.write(new Uint8Array(100));
        await w.commit();
      }
      expect(cache.lookup(id('a'))).not.toBeNull(); // a is now the most recent
      const c = cache.writer(id('c'), 100);
      await c.write(new Uint8Array(100));
      await c.commit();
      expect(cache.lookup(id('b'))).toBeNull();
      expect(cache.count).toBe(2);
      const short = cache.writer(id('d'), 100);
      await short.write(new Uint8Array(10));
      await short.commit(); // incomplete: not added
      expect(cache.lookup(id('d'))).toBeNull();
      expect((await readdir(dir)).sort()).toEqual([id('a'), id('c')]);
      const reopened = await BlobCache.open({ dir, maxBytes: 150 });
      expect(reopened.count).toBe(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('route table', () => {
  it('literal segments win, HEAD maps to GET, 405 vs 404, OpenAPI from the definitions, strict queries', async () => {
    const t = new RouteTable();
    const h = async () => {};
    t.register(
      {
        method: 'GET',
        path: '/v1/blobs/{blob_id}',
        operationId: 'a',
        summary: '',
        tag: 'aggregator',
        query: [],
        responses: { 200: '' },
        admission: 'none',
        handle: h,
      },
      {
        method: 'GET',
        path: '/v1/blobs/by-object-id/{id}',
        operationId: 'b',
        summary: '',
        tag: 'aggregator',
        query: [],
        responses: { 200: '' },
        admission: 'none',
        handle: h,
      },
      {
        method: 'PUT',
        path: '/v1/quilts',
        operationId: 'q',
        summary: 'added later',
        tag: 'publisher',
        query: [{ name: 'epochs', type: 'integer', description: '' }],
        responses: { 200: '' },
        admission: 'publisher',
        handle: h,
      },
    );
    expect((t.match('HEAD', '/v1/blobs/x') as { def: { operationId: string } }).def.operationId).toBe('a');
    expect((t.match('GET', '/v1/blobs/by-object-id/0x1') as { params: Record<string, string> }).params).toEqual({ id: '0x1' });
    expect(t.match('DELETE', '/v1/blobs/x')).toBe('method');
    expect(t.match('GET', '/nope')).toBeNull();
    expect(() => t.register({ ...t.definitions[0] })).toThrow(/twice/);
    const doc = t.openApi('T', '1') as { paths: Record<string, Record<string, { parameters: { name: string }[] }>> };
    expect(Object.keys(doc.paths).sort()).toEqual(['/v1/blobs/by-object-id/{id}', '/v1/blobs/{blob_id}', '/v1/quilts']);
    expect(doc.paths['/v1/quilts'].put.parameters.map((p) => p.name)).toEqual(['epochs']);
    const q = [
      { name: 'epochs', type: 'integer' as const, description: '' },
      { name: 'force', type: 'boolean' as const, description: '' },
    ];
    expect(parseQuery(new URL('http://x/?epochs=3&force=true'), q)).toEqual({ epochs: 3n, force: true });
    for (const bad of ['?x=1', '?epochs=-1', '?epochs=1&epochs=2', '?force=1'])
      expect(() => parseQuery(new URL(`http://x/${bad}`), q)).toThrow(PlainError);
    expect(new ApiError('UNAVAILABLE', 'BLOB_UNAVAILABLE', 'm').code).toBe(503);
  });
});
