/**
 * The Walrus Sites rules on the local chain (Walrus Sites' `site.move` and `redirects.move`,
 * sites-and-encryption.md §A2): `createSite`, `updateSite` (a list of edits applied in order,
 * all or nothing — one SQLite transaction) and `burnSite`, with Move's aborts — a resource path
 * added twice (`EFieldAlreadyExists`), a missing one removed (`EFieldDoesNotExist`), a duplicate
 * header, route or redirect key (`EKeyAlreadyExists`), a bad range (`EIncorrectRange`), a
 * redirect status outside {301, 302, 303, 307, 308} (`EInvalidStatusCode`), burning a site that
 * still has routes or redirects (`ERoutesOrRedirectsExist`), and mutation by anyone but the owner
 * (`ENotOwner`). Events: `SiteCreated`, `SiteUpdated` (with the paths touched, so a portal drops
 * exactly what changed), `SiteBurned`.
 */
import { ChainAbortError, TuskInputError } from '../../errors.ts';
import { decodeChainJson, encodeChainJson } from '../json.ts';
import { REDIRECT_STATUS_CODES, type SiteObject, type SiteOp, type SiteRedirect, type SiteResource } from '../site-objects.ts';
import type { Address, ObjectId } from '../types.ts';
import { argAddress, argString, notFound, requireOwner, type ExecContext } from './context.ts';
import type { Store } from './tables.ts';

/** The stored body of a site row (everything but id and owner). */
type SiteBody = Omit<SiteObject, 'id' | 'owner' | 'resourceCount'>;

/** Longest resource path, route pattern or header accepted (Walrus's identifier limit is ~2 KiB). */
const MAX_TEXT = 4096;
/** Most edits in one call. */
const MAX_OPS = 100_000;

// --- reads ------------------------------------------------------------------------------------

/** The site `id`, or null. */
export function readSite(store: Store, id: ObjectId): SiteObject | null {
  const row = store.q('SELECT owner, body FROM sites WHERE id = ?').get(id) as { owner: string; body: string } | undefined;
  if (!row) return null;
  const count = store.q('SELECT COUNT(*) AS n FROM site_resources WHERE site_id = ?').get(id) as { n: number };
  return { id, owner: row.owner, ...(decodeChainJson(row.body) as SiteBody), resourceCount: Number(count.n) };
}

/** One resource of a site, or null. */
export function readSiteResource(store: Store, siteId: ObjectId, path: string): SiteResource | null {
  const row = store.q('SELECT body FROM site_resources WHERE site_id = ? AND path = ?').get(siteId, path) as { body: string } | undefined;
  return row ? (decodeChainJson(row.body) as SiteResource) : null;
}

/** All resources of a site, sorted by path. */
export function readSiteResources(store: Store, siteId: ObjectId): SiteResource[] {
  const rows = store.q('SELECT body FROM site_resources WHERE site_id = ? ORDER BY path').all(siteId) as { body: string }[];
  return rows.map((r) => decodeChainJson(r.body) as SiteResource);
}

/** Sites owned by `owner`. */
export function readSitesOwnedBy(store: Store, owner: Address): SiteObject[] {
  const rows = store.q('SELECT id FROM sites WHERE owner = ? ORDER BY id').all(owner) as { id: string }[];
  return rows.map((r) => readSite(store, r.id)!);
}

// --- calls ------------------------------------------------------------------------------------

/** `new_site` + the edits: a Site owned by the sender. */
export function createSite(ctx: ExecContext, args: Readonly<Record<string, unknown>>): object {
  const name = checkText(argString(args, 'name'), 'name');
  const ops = argOps(args);
  const id = ctx.newId();
  const body: SiteBody = {
    name,
    link: null,
    imageUrl: null,
    description: null,
    projectUrl: null,
    creator: null,
    routes: null,
    redirects: null,
    version: 1,
  };
  ctx.store.q('INSERT INTO sites(id, owner, body) VALUES (?, ?, ?)').run(id, ctx.sender, encodeChainJson(body));
  const touched = applyOps(ctx, id, body, ops);
  ctx.store.q('UPDATE sites SET body = ? WHERE id = ?').run(encodeChainJson(touched.body), id);
  ctx.emit({ type: 'SiteCreated', siteId: id });
  return { site: readSite(ctx.store, id)! };
}

/** The edits on an existing site of the sender. */
export function updateSite(ctx: ExecContext, args: Readonly<Record<string, unknown>>): object {
  const id = argAddress(args, 'siteId');
  const ops = argOps(args);
  const site = readSite(ctx.store, id) ?? notFound('site', id);
  requireOwner(ctx, site.owner, `site ${id}`);
  const { id: _id, owner: _owner, resourceCount: _n, ...body } = site;
  const touched = applyOps(ctx, id, { ...body, version: body.version + 1 }, ops);
  ctx.store.q('UPDATE sites SET body = ? WHERE id = ?').run(encodeChainJson(touched.body), id);
  ctx.emit({ type: 'SiteUpdated', siteId: id, version: touched.body.version, paths: touched.paths });
  return { site: readSite(ctx.store, id)! };
}

/** `burn`: only without routes and redirects (Move's rule); the resources go with the site. */
export function burnSite(ctx: ExecContext, args: Readonly<Record<string, unknown>>): object {
  const id = argAddress(args, 'siteId');
  const site = readSite(ctx.store, id) ?? notFound('site', id);
  requireOwner(ctx, site.owner, `site ${id}`);
  if (site.routes !== null || site.redirects !== null)
    throw new ChainAbortError('ERoutesOrRedirectsExist', `site ${id} still has routes or redirects: remove them before burning it`);
  ctx.store.q('DELETE FROM site_resources WHERE site_id = ?').run(id);
  ctx.store.q('DELETE FROM sites WHERE id = ?').run(id);
  ctx.emit({ type: 'SiteBurned', siteId: id });
  return {};
}

function applyOps(ctx: ExecContext, id: ObjectId, body: SiteBody, ops: readonly SiteOp[]): { body: SiteBody; paths: string[] } {
  const paths = new Set<string>();
  let b: SiteBody = body;
  for (const op of ops) {
    switch (op.op) {
      case 'addResource': {
        const r = checkResource(op.resource);
        if (readSiteResource(ctx.store, id, r.path) !== null)
          throw new ChainAbortError('EFieldAlreadyExists', `site ${id} already has a resource at ${r.path}`);
        ctx.store.q('INSERT INTO site_resources(site_id, path, body) VALUES (?, ?, ?)').run(id, r.path, encodeChainJson(r));
        paths.add(r.path);
        break;
      }
      case 'removeResource': {
        const path = checkText(op.path, 'path');
        const gone = ctx.store.q('DELETE FROM site_resources WHERE site_id = ? AND path = ?').run(id, path);
        if (Number(gone.changes) === 0) throw new ChainAbortError('EFieldDoesNotExist', `site ${id} has no resource at ${path}`);
        paths.add(path);
        break;
      }
      case 'setRoutes':
        b = { ...b, routes: op.routes === null ? null : checkMap(op.routes, 'route', (v) => checkText(v, 'route target')) };
        break;
      case 'setRedirects':
        b = { ...b, redirects: op.redirects === null ? null : checkMap(op.redirects, 'redirect', checkRedirect) };
        break;
      case 'setName':
        b = { ...b, name: checkText(op.name, 'name') };
        break;
      case 'setMetadata': {
        const m = op.metadata;
        if (m === null || typeof m !== 'object') throw new TuskInputError('metadata must be an object');
        const opt = (v: unknown, what: string) => (v === undefined || v === null ? null : checkText(v, what));
        b = {
          ...b,
          link: opt(m.link, 'link'),
          imageUrl: opt(m.imageUrl, 'imageUrl'),
          description: opt(m.description, 'description'),
          projectUrl: opt(m.projectUrl, 'projectUrl'),
          creator: opt(m.creator, 'creator'),
        };
        break;
      }
      default:
        throw new TuskInputError(`unknown site operation ${JSON.stringify((op as { op?: unknown }).op)}`);
    }
  }
  return { body: b, paths: [...paths] };
}

function argOps(args: Readonly<Record<string, unknown>>): SiteOp[] {
  const ops = args.ops;
  if (!Array.isArray(ops) || ops.length > MAX_OPS) throw new TuskInputError(`argument ops must be an array of at most ${MAX_OPS} edits`);
  for (const op of ops) if (op === null || typeof op !== 'object') throw new TuskInputError('every site edit must be an object');
  return ops as SiteOp[];
}

function checkText(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length > MAX_TEXT) throw new TuskInputError(`${what} must be a string of at most ${MAX_TEXT} characters`);
  return v;
}

function checkBytes(v: unknown, what: string): Uint8Array {
  if (!(v instanceof Uint8Array) || v.length !== 32) throw new TuskInputError(`${what} must be 32 bytes`);
  return v;
}

function checkResource(r: SiteResource): SiteResource {
  if (r === null || typeof r !== 'object') throw new TuskInputError('a resource must be an object');
  const path = checkText(r.path, 'resource path');
  if (!path.startsWith('/')) throw new TuskInputError(`resource path ${JSON.stringify(path)} must start with /`);
  const headers = checkMap(r.headers, 'header', (v) => checkText(v, 'header value'));
  let range: SiteResource['range'] = null;
  if (r.range !== null && r.range !== undefined) {
    const u = (v: unknown) => {
      if (v === null || v === undefined) return null;
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new TuskInputError('range bounds must be u64 integers');
      return v;
    };
    const start = u(r.range.start),
      end = u(r.range.end);
    if (start === null && end === null) throw new ChainAbortError('EIncorrectRange', 'a range needs a start or an end');
    if (start !== null && end !== null && end <= start)
      throw new ChainAbortError('EIncorrectRange', `range end ${end} must exceed start ${start}`);
    range = { start, end };
  }
  return { path, headers, blobId: checkBytes(r.blobId, 'blobId'), blobHash: checkBytes(r.blobHash, 'blobHash'), range };
}

function checkRedirect(v: unknown): SiteRedirect {
  const r = v as SiteRedirect;
  if (r === null || typeof r !== 'object') throw new TuskInputError('a redirect must be {location, statusCode}');
  const location = checkText(r.location, 'redirect location');
  if (!REDIRECT_STATUS_CODES.has(r.statusCode as number))
    throw new ChainAbortError('EInvalidStatusCode', `redirect status ${String(r.statusCode)} is not one of 301, 302, 303, 307, 308`);
  return { location, statusCode: r.statusCode };
}

/** A VecMap: an array of [key, value] pairs with unique keys (insertion order kept). */
function checkMap<V>(pairs: unknown, what: string, value: (v: unknown) => V): [string, V][] {
  if (!Array.isArray(pairs)) throw new TuskInputError(`${what}s must be an array of [key, value] pairs`);
  const seen = new Set<string>();
  return pairs.map((p) => {
    if (!Array.isArray(p) || p.length !== 2) throw new TuskInputError(`each ${what} must be a [key, value] pair`);
    const key = checkText(p[0], `${what} key`);
    if (seen.has(key)) throw new ChainAbortError('EKeyAlreadyExists', `${what} ${JSON.stringify(key)} is given twice`);
    seen.add(key);
    return [key, value(p[1])];
  });
}
