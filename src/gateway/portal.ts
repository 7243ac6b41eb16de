/**
 * The Walrus Sites portal of the gateway (sites-and-encryption.md §A6, §A7, §A10): serves the
 * site whose object ID is the base36 subdomain of the request's host
 * (`http://<b36>.localhost:<port>/<path>`), or the path form `/site/<b36>/<path>` for hosts
 * without wildcard DNS. Resolution: the resource (with `index.html` for directories), then the
 * site's redirects, routes, its `/404.html` (status 404), then the portal's 404 page.
 *
 * The resource's bytes (a quilt patch read by patch ID, or a whole blob; the on-chain range
 * applied) are hashed and compared with the resource's SHA-256 before a byte is served: a
 * mismatch is a 422 error page, never content. The site's headers are sent (minus Walrus's
 * internal `x-wal-*` ones), with `ETag: "<base64 SHA-256>"`, 304 on `If-None-Match`, and single
 * byte ranges (206/416) on the verified bytes, so media can seek.
 *
 * Caches: verified contents by (blob, patch, hash) in a byte-bounded LRU (content-addressed, it
 * never needs invalidating), and each site's object and path lookups, dropped when the chain
 * reports `SiteUpdated` / `SiteBurned` for it (a follower long-polls the chain's events).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { blobIdToString } from '../codec/blob-id.ts';
import type { TaskRunner } from '../codec/tasks.ts';
import type { SiteObject, SiteReader, SiteResource } from '../chain/site-objects.ts';
import type { Chain, EventCursor } from '../chain/types.ts';
import { readBlob } from '../client/read-blob.ts';
import { readQuiltPatch } from '../quilt/client.ts';
import { encodeQuiltPatchId } from '../quilt/patch-id.ts';
import { base36ToObjectId } from '../site/base36.ts';
import { parsePatchInternalId, QUILT_PATCH_HEADER } from '../site/publish-site.ts';
import { candidatePaths, matchRedirect, matchRoute } from '../site/site-routing.ts';
import { equalBytes } from '../util/bytes.ts';
import { ifNoneMatchMatches, ifRangeAllows, parseRange } from './ranges.ts';

/** Options of the portal. */
export interface PortalOptions {
  readonly chain: Chain & SiteReader;
  readonly pool?: TaskRunner;
  readonly nodeTimeoutMs?: number;
  /** The portal's domain: sites are served at `<b36>.<domain>` (default `localhost`). */
  readonly domain?: string;
  /** Bytes of verified contents kept in memory (default 64 MiB). */
  readonly cacheBytes?: number;
}

/** Counters (tests and benchmarks). */
export interface PortalStats {
  contentHits: number;
  contentMisses: number;
  invalidations: number;
}

interface SiteEntry {
  readonly site: SiteObject | null;
  readonly resources: Map<string, SiteResource | null>;
}

/** The portal; `claim` says whether a request is for it, `serve` answers it. */
export class Portal {
  readonly stats: PortalStats = { contentHits: 0, contentMisses: 0, invalidations: 0 };
  private readonly chain: Chain & SiteReader;
  private readonly options: PortalOptions;
  private readonly domain: string;
  private readonly sites = new Map<string, SiteEntry>();
  private readonly contents = new Map<string, Uint8Array>();
  private contentBytes = 0;
  private readonly maxBytes: number;
  private follower: Promise<void> | null = null;
  private readonly stop = new AbortController();

  constructor(options: PortalOptions) {
    this.chain = options.chain;
    this.options = options;
    this.domain = (options.domain ?? 'localhost').toLowerCase();
    this.maxBytes = options.cacheBytes ?? 64 * 2 ** 20;
  }

  /**
   * The site a request is for and the path within it, or null when it is not a portal request:
   * a Host `<sub>.<domain>` (sub = base36 object ID) or a path `/site/<b36>/…`.
   */
  claim(req: IncomingMessage, url: URL): { sub: string; path: string; prefix: string } | null {
    const host = (req.headers.host ?? '').toLowerCase().replace(/:\d+$/, '');
    if (host.endsWith(`.${this.domain}`)) {
      const sub = host.slice(0, -this.domain.length - 1);
      if (sub !== '' && !sub.includes('.')) return { sub, path: url.pathname, prefix: '' };
    }
    const m = /^\/site\/([0-9A-Za-z]+)(\/.*)?$/.exec(url.pathname);
    if (m) return { sub: m[1], path: m[2] ?? '', prefix: `/site/${m[1]}` };
    return null;
  }

  /** Answers a claimed request. Never throws: failures become error pages. */
  async serve(req: IncomingMessage, res: ServerResponse, url: URL, claim: { sub: string; path: string; prefix: string }): Promise<void> {
    try {
      this.startFollower();
      if (req.method !== 'GET' && req.method !== 'HEAD') return page(res, 405, 'Method not allowed', 'The portal serves GET and HEAD.');
      const siteId = base36ToObjectId(claim.sub);
      if (!siteId) return page(res, 404, 'No such site', `${claim.sub} is not the base36 form of an object ID.`);
      // The path form needs a trailing slash at the site's root, or relative links would leave it.
      if (claim.prefix && claim.path === '') {
        res.writeHead(308, { location: `${claim.prefix}/${url.search}` }).end();
        return;
      }
      let path: string;
      try {
        path = decodeURIComponent(claim.path || '/');
      } catch {
        return page(res, 400, 'Bad request', 'The path is not valid percent-encoding.');
      }
      const site = await this.site(siteId);
      if (!site.site) return page(res, 404, 'No such site', `There is no site ${siteId} on this chain.`);
      for (const p of candidatePaths(path)) {
        const r = await this.resource(siteId, p);
        if (r) return await this.send(req, res, r, 200);
      }
      const redirect = matchRedirect(site.site.redirects, path);
      if (redirect) {
        if (redirect.location === path) return page(res, 508, 'Redirect loop', `${path} redirects to itself.`);
        const location = redirect.location.startsWith('/') ? `${claim.prefix}${redirect.location}` : redirect.location;
        res.writeHead(redirect.statusCode, { location, 'content-length': '0' }).end();
        return;
      }
      const target = matchRoute(site.site.routes, path);
      if (target) {
        const r = await this.resource(siteId, target);
        if (r) return await this.send(req, res, r, 200);
      }
      const notFound = await this.resource(siteId, '/404.html');
      if (notFound) return await this.send(req, res, notFound, 404);
      return page(res, 404, 'Not found', `The site has no resource at ${path}.`);
    } catch (e) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const err = e as Error & { status?: number };
      if (err.status === 422) return page(res, 422, 'Content does not match its hash', err.message);
      if (err.status === 404) return page(res, 404, 'Blob unavailable', err.message);
      return page(res, 503, 'Site unavailable', `The site cannot be served now: ${err.message}`);
    }
  }

  /** Stops the event follower. */
  async close(): Promise<void> {
    this.stop.abort();
    await this.follower?.catch(() => {});
  }

  private async site(siteId: string): Promise<SiteEntry> {
    let e = this.sites.get(siteId);
    if (!e) {
      e = { site: await this.chain.getSite(siteId), resources: new Map() };
      if (this.sites.size > 1000) this.sites.delete(this.sites.keys().next().value!);
      this.sites.set(siteId, e);
    }
    return e;
  }

  private async resource(siteId: string, path: string): Promise<SiteResource | null> {
    const e = await this.site(siteId);
    if (!e.resources.has(path)) {
      if (e.resources.size > 10_000) e.resources.clear();
      e.resources.set(path, await this.chain.siteResource(siteId, path));
    }
    return e.resources.get(path)!;
  }

  /** The resource's verified bytes (from the cache or the nodes). @throws {status: 422} on a hash mismatch. */
  private async contentsOf(r: SiteResource): Promise<Uint8Array> {
    const patchHeader = r.headers.find(([k]) => k === QUILT_PATCH_HEADER)?.[1] ?? '';
    const hashHex = Buffer.from(r.blobHash).toString('hex');
    const key = `${blobIdToString(r.blobId)}:${patchHeader}:${JSON.stringify(r.range)}:${hashHex}`;
    const hit = this.contents.get(key);
    if (hit) {
      this.stats.contentHits++;
      this.contents.delete(key);
      this.contents.set(key, hit);
      return hit;
    }
    this.stats.contentMisses++;
    const readOptions = { chain: this.chain, pool: this.options.pool, nodeTimeoutMs: this.options.nodeTimeoutMs };
    let bytes: Uint8Array;
    const at = patchHeader ? parsePatchInternalId(patchHeader) : null;
    if (patchHeader && !at) throw Object.assign(new Error(`malformed ${QUILT_PATCH_HEADER} ${patchHeader}`), { status: 422 });
    try {
      bytes = at
        ? (await readQuiltPatch(null, { quiltPatchId: encodeQuiltPatchId(r.blobId, at.start, at.end) }, readOptions)).data
        : await readBlob(r.blobId, readOptions);
    } catch (e) {
      // A blob that expired or was deleted is gone for good (404, as Walrus's portal answers);
      // anything else may pass (503).
      const epoch = (await this.chain.committee()).epoch;
      const live = (await this.chain.blobObjects(r.blobId)).some((b) => b.certifiedEpoch !== null && b.storage.endEpoch > epoch);
      if (!live) throw Object.assign(new Error(`the blob holding ${r.path} is no longer stored (expired or deleted)`), { status: 404 });
      throw e;
    }
    if (r.range) {
      const start = r.range.start ?? 0;
      const end = r.range.end === null ? bytes.length - 1 : Math.min(r.range.end, bytes.length - 1);
      bytes = bytes.subarray(start, end + 1);
    }
    const digest = new Uint8Array(createHash('sha256').update(bytes).digest());
    if (!equalBytes(digest, r.blobHash)) {
      throw Object.assign(
        new Error(
          `${r.path}: the bytes read have SHA-256 ${Buffer.from(digest).toString('hex')}, the site says ${hashHex}; nothing was served`,
        ),
        { status: 422 },
      );
    }
    if (bytes.length <= this.maxBytes / 4) {
      this.contents.set(key, bytes);
      this.contentBytes += bytes.length;
      while (this.contentBytes > this.maxBytes) {
        const [k, v] = this.contents.entries().next().value!;
        this.contents.delete(k);
        this.contentBytes -= v.length;
      }
    }
    return bytes;
  }

  private async send(req: IncomingMessage, res: ServerResponse, r: SiteResource, status: number): Promise<void> {
    const bytes = await this.contentsOf(r);
    const tag = Buffer.from(r.blobHash).toString('base64');
    const etag = `"${tag}"`;
    const headers: Record<string, string> = {};
    for (const [k, v] of r.headers) if (!k.startsWith('x-wal-')) headers[k] = v;
    headers.etag = etag;
    headers['accept-ranges'] = 'bytes';
    if (status === 200 && ifNoneMatchMatches(req.headers['if-none-match'] as string | undefined, tag)) {
      res.writeHead(304, {
        etag,
        'accept-ranges': 'bytes',
        ...(headers['cache-control'] ? { 'cache-control': headers['cache-control'] } : {}),
      });
      res.end();
      return;
    }
    const range =
      status === 200 && ifRangeAllows(req.headers['if-range'] as string | undefined, tag)
        ? parseRange(req.headers.range, bytes.length)
        : null;
    if (range === 'unsatisfiable') {
      res.writeHead(416, { 'content-range': `bytes */${bytes.length}`, 'content-length': '0' }).end();
      return;
    }
    let body = bytes;
    if (range) {
      status = 206;
      body = bytes.subarray(range.start, range.end + 1);
      headers['content-range'] = `bytes ${range.start}-${range.end}/${bytes.length}`;
    }
    headers['content-length'] = String(body.length);
    res.writeHead(status, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  /** Follows the chain's events from now on and drops the cached state of updated or burned sites. */
  private startFollower(): void {
    if (this.follower) return;
    const signal = this.stop.signal;
    this.follower = (async () => {
      let cursor: EventCursor | null = null;
      // Skip the history: everything cached is read after this point.
      for (;;) {
        const page = await this.chain.events({ cursor, limit: 1000 });
        cursor = page.nextCursor;
        if (page.events.length < 1000) break;
      }
      // Anything cached while the history was skipped may predate an update in it.
      this.sites.clear();
      while (!signal.aborted) {
        try {
          const page = await this.chain.events({ cursor, limit: 1000, waitMs: 10_000, signal });
          for (const e of page.events) {
            const ev = e.event;
            if (ev.type === 'SiteUpdated' || ev.type === 'SiteBurned' || ev.type === 'SiteCreated') {
              if (this.sites.delete(ev.siteId)) this.stats.invalidations++;
            }
          }
          cursor = page.nextCursor;
        } catch {
          if (signal.aborted) return;
          // The chain is unreachable: forget everything (nothing stale is served) and retry.
          this.sites.clear();
          await new Promise((r) => setTimeout(r, 1000).unref());
        }
      }
    })().catch(() => {
      this.follower = null;
    });
  }
}

function page(res: ServerResponse, status: number, title: string, text: string): void {
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const body = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${status} ${esc(title)}</title></head><body><h1>${status} ${esc(title)}</h1><p>${esc(text)}</p><hr><p>Tusk portal</p></body></html>\n`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
  });
  res.end(body);
}
