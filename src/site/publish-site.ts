/**
 * Publishing and updating a site (the site-builder's flow, sites-and-encryption.md §A4–§A5, on
 * Tusk's chain): scan the directory, hash every file (SHA-256), compare with the site on chain
 * (a resource is unchanged when its path and hash are the same and its blob is still live),
 * store only the changed files — in quilts, many small files per blob, each resource then
 * pointing at its patch through the `x-wal-quilt-patch-internal-id` header as Walrus Sites does —
 * and apply the whole diff (removals, additions, header-only changes, routes, redirects,
 * metadata, name) in ONE chain call, so the site is never seen half-updated.
 *
 * Nothing touches the chain before every input check passed (directory, symlinks,
 * ws-resources.json, quilt limits); a failure while storing leaves the site as it was.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Signer } from '@mysten/sui/cryptography';
import { blobIdFromString, blobIdToString } from '../codec/blob-id.ts';
import type { TaskRunner } from '../codec/tasks.ts';
import {
  burnSite,
  createSite,
  updateSite,
  type SiteOp,
  type SiteReader,
  type SiteResource,
  type SubmittingChain,
} from '../chain/site-objects.ts';
import type { Chain, ObjectId } from '../chain/types.ts';
import { TuskInputError } from '../errors.ts';
import { equalBytes } from '../util/bytes.ts';
import { quiltGeometry } from '../quilt/format.ts';
import { QuiltTooLargeError, type QuiltBlobInput } from '../quilt/quilt-encode.ts';
import { storeQuilt } from '../quilt/client.ts';
import { objectIdToBase36 } from './base36.ts';
import { scanSiteDirectory, type SiteFile } from './site-dir.ts';
import { headersFor } from './ws-resources.ts';

/** The resource header that names a resource's quilt patch (Walrus Sites' internal header). */
export const QUILT_PATCH_HEADER = 'x-wal-quilt-patch-internal-id';

/** Site name when neither the options nor ws-resources.json give one (the site-builder's). */
export const DEFAULT_SITE_NAME = 'My Walrus Site';

/** A chain a site can be published on. */
export type SiteChain = Chain & SiteReader & SubmittingChain;

/** Progress of a publish. */
export interface PublishProgress {
  readonly phase: 'scan' | 'hash' | 'store' | 'chain' | 'done';
  readonly done?: number;
  readonly total?: number;
}

/** Options of `publishSite`. */
export interface PublishSiteOptions {
  readonly chain: SiteChain;
  readonly signer: Signer;
  /** Epochs ahead to store changed files for. */
  readonly epochs: number;
  /** Store permanent blobs (default: deletable, as the site-builder). */
  readonly permanent?: boolean;
  /** Update this site instead of creating one (it must be the signer's). */
  readonly siteId?: ObjectId;
  /** Site name (default: ws-resources.json's `site_name`, else "My Walrus Site" for a new site). */
  readonly siteName?: string;
  /** Largest quilt in bytes of file contents (default 64 MiB); a bigger file gets a quilt of its own. */
  readonly maxQuiltBytes?: number;
  readonly pool?: TaskRunner;
  readonly nodeTimeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: PublishProgress) => void;
  /** Wait for the uploads that go on after certification (default true; at most 60 s). */
  readonly waitForUploads?: boolean;
}

/** What `publishSite` did. */
export interface PublishSiteResult {
  readonly siteObjectId: ObjectId;
  readonly base36Id: string;
  readonly created: boolean;
  /** Paths whose bytes were stored by this call. */
  readonly uploaded: readonly string[];
  /** Paths kept as they were on chain (bytes and headers). */
  readonly unchanged: readonly string[];
  /** Paths whose headers changed but not their bytes (re-pointed without an upload). */
  readonly headersChanged: readonly string[];
  /** Paths removed from the site. */
  readonly removed: readonly string[];
  /** Paths skipped by ws-resources.json `ignore`. */
  readonly ignored: readonly string[];
  /** Quilts stored: ID and number of files. */
  readonly quilts: readonly { readonly quiltId: string; readonly files: number }[];
  /** FROST paid for storage. */
  readonly cost: bigint;
  /** Resources on the site after the call. */
  readonly resources: number;
  /** False when nothing at all changed (no chain call was made). */
  readonly changed: boolean;
  /** Blob objects deleted because no resource of the signer's sites refers to their blob any more. */
  readonly deletedBlobs: readonly ObjectId[];
}

interface LocalResource {
  readonly file: SiteFile;
  readonly hash: Uint8Array;
  readonly headers: [string, string][];
}

/**
 * Publishes `dir` as a new site, or updates `options.siteId` to match `dir`.
 * @throws TuskInputError for bad input (directory, symlinks, ws-resources.json, a site that is
 *   not the signer's); the store and chain errors otherwise (the site is then unchanged).
 */
export async function publishSite(dir: string, options: PublishSiteOptions): Promise<PublishSiteResult> {
  const { chain, signer } = options;
  if (!Number.isInteger(options.epochs) || options.epochs < 1) throw new TuskInputError('epochs must be a positive integer');
  const progress = options.onProgress ?? (() => {});
  progress({ phase: 'scan' });
  const scanned = await scanSiteDirectory(dir);
  if (scanned.files.length === 0) throw new TuskInputError(`${dir}: nothing to publish (no files, or all ignored)`);
  const ws = scanned.ws;

  const existing = options.siteId === undefined ? null : await chain.getSite(options.siteId);
  if (options.siteId !== undefined) {
    if (!existing) throw new TuskInputError(`site ${options.siteId} does not exist`);
    if (existing.owner !== signer.toSuiAddress())
      throw new TuskInputError(`site ${options.siteId} is owned by ${existing.owner}, not by this wallet (${signer.toSuiAddress()})`);
  }
  const onChain = new Map<string, SiteResource>();
  if (existing) for (const r of await chain.siteResources(existing.id)) onChain.set(r.path, r);

  // Hash every file; keep no contents in memory.
  const local: LocalResource[] = [];
  for (const [i, f] of scanned.files.entries()) {
    const bytes = await readFile(f.file);
    local.push({ file: f, hash: new Uint8Array(createHash('sha256').update(bytes).digest()), headers: headersFor(ws, f.path) });
    if (i % 50 === 0) progress({ phase: 'hash', done: i, total: scanned.files.length });
  }

  // Which on-chain blobs are still live (a resource on an expired blob must be stored again).
  const epoch = (await chain.systemState()).epoch;
  const liveBlob = new Map<string, boolean>();
  const isLive = async (r: SiteResource): Promise<boolean> => {
    const key = blobIdToString(r.blobId);
    if (!liveBlob.has(key))
      liveBlob.set(
        key,
        (await chain.blobObjects(r.blobId)).some((b) => b.certifiedEpoch !== null && b.storage.endEpoch > epoch),
      );
    return liveBlob.get(key)!;
  };

  const toStore: LocalResource[] = [];
  const unchanged: string[] = [];
  const headersChanged: { local: LocalResource; old: SiteResource }[] = [];
  for (const l of local) {
    const old = onChain.get(l.file.path);
    if (old && old.range === null && equalBytes(old.blobHash, l.hash) && (await isLive(old))) {
      const patch = old.headers.find(([k]) => k === QUILT_PATCH_HEADER);
      const wanted = patch ? [...l.headers, [patch[0], patch[1]] as [string, string]] : l.headers;
      if (sameHeaders(old.headers, wanted)) unchanged.push(l.file.path);
      else headersChanged.push({ local: l, old });
    } else toStore.push(l);
  }
  const localPaths = new Set(local.map((l) => l.file.path));
  const removed = [...onChain.keys()].filter((p) => !localPaths.has(p));

  // Store the changed files in quilts.
  const added: SiteResource[] = [];
  const quilts: { quiltId: string; files: number }[] = [];
  const background: Promise<unknown>[] = [];
  let cost = 0n;
  if (toStore.length > 0) {
    const committee = await chain.committee();
    const maxPatches = Math.max(1, quiltGeometry(committee.nShards).columns - 2);
    const maxBytes = options.maxQuiltBytes ?? 64 * 2 ** 20;
    const groups = packQuilts(toStore, maxPatches, maxBytes);
    let stored = 0;
    const storeGroup = async (group: LocalResource[]): Promise<void> => {
      const blobs: QuiltBlobInput[] = [];
      for (const l of group) blobs.push({ identifier: l.file.path, contents: new Uint8Array(await readFile(l.file.file)) });
      // Files changed since they were hashed would be served as a hash mismatch: refuse now.
      blobs.forEach((b, i) => {
        if (!equalBytes(new Uint8Array(createHash('sha256').update(b.contents).digest()), group[i].hash))
          throw new TuskInputError(`${group[i].file.file} changed while the site was being published; run again`);
      });
      let r;
      try {
        r = await storeQuilt(blobs, {
          chain,
          signer,
          epochs: options.epochs,
          deletable: options.permanent !== true,
          pool: options.pool,
          nodeTimeoutMs: options.nodeTimeoutMs,
          signal: options.signal,
        });
      } catch (e) {
        if (e instanceof QuiltTooLargeError && group.length > 1) {
          const half = Math.ceil(group.length / 2);
          await storeGroup(group.slice(0, half));
          await storeGroup(group.slice(half));
          return;
        }
        throw e;
      }
      background.push(r.blobStoreResult.background);
      cost += r.blobStoreResult.cost;
      quilts.push({ quiltId: r.quiltId, files: group.length });
      const byIdentifier = new Map(r.storedQuiltBlobs.map((p) => [p.identifier, p]));
      for (const l of group) {
        const p = byIdentifier.get(l.file.path)!;
        added.push({
          path: l.file.path,
          headers: [...l.headers, [QUILT_PATCH_HEADER, patchInternalId(p.range[0], p.range[1])]],
          blobId: blobIdFromString(r.quiltId),
          blobHash: l.hash,
          range: null,
        });
      }
      stored += group.length;
      progress({ phase: 'store', done: stored, total: toStore.length });
    };
    progress({ phase: 'store', done: 0, total: toStore.length });
    for (const g of groups) await storeGroup(g);
  }

  // The diff as one list of edits: removals first, then additions (as the site-builder orders them).
  const ops: SiteOp[] = [];
  for (const l of toStore) if (onChain.has(l.file.path)) ops.push({ op: 'removeResource', path: l.file.path });
  for (const h of headersChanged) ops.push({ op: 'removeResource', path: h.old.path });
  for (const p of removed) ops.push({ op: 'removeResource', path: p });
  for (const r of added) ops.push({ op: 'addResource', resource: r });
  for (const h of headersChanged) {
    const patch = h.old.headers.find(([k]) => k === QUILT_PATCH_HEADER);
    ops.push({ op: 'addResource', resource: { ...h.old, headers: patch ? [...h.local.headers, patch] : h.local.headers } });
  }
  if (JSON.stringify(ws.routes) !== JSON.stringify(existing?.routes ?? null)) ops.push({ op: 'setRoutes', routes: ws.routes });
  if (JSON.stringify(ws.redirects) !== JSON.stringify(existing?.redirects ?? null))
    ops.push({ op: 'setRedirects', redirects: ws.redirects });
  if (ws.metadata) {
    const m = ws.metadata;
    const cur = existing;
    if (
      !cur ||
      (m.link ?? null) !== cur.link ||
      (m.imageUrl ?? null) !== cur.imageUrl ||
      (m.description ?? null) !== cur.description ||
      (m.projectUrl ?? null) !== cur.projectUrl ||
      (m.creator ?? null) !== cur.creator
    )
      ops.push({ op: 'setMetadata', metadata: m });
  }
  const name = options.siteName ?? ws.siteName ?? null;
  if (existing && name !== null && name !== existing.name) ops.push({ op: 'setName', name });

  progress({ phase: 'chain' });
  let siteId: ObjectId;
  let resources: number;
  if (!existing) {
    const r = await createSite(chain, signer, name ?? DEFAULT_SITE_NAME, ops);
    siteId = r.site.id;
    resources = r.site.resourceCount;
  } else if (ops.length > 0) {
    const r = await updateSite(chain, signer, existing.id, ops);
    siteId = r.site.id;
    resources = r.site.resourceCount;
  } else {
    siteId = existing.id;
    resources = existing.resourceCount;
  }
  // Quilts no resource refers to any more (the site-builder's step 9): their deletable Blob
  // objects are deleted, which returns their storage to the wallet for reuse.
  const before = new Set([...onChain.values()].map((r) => blobIdToString(r.blobId)));
  const deletedBlobs = existing && ops.length > 0 ? await deleteUnreferenced(chain, signer, before) : [];
  if (options.waitForUploads !== false && background.length > 0) {
    await Promise.race([Promise.allSettled(background), new Promise((r) => setTimeout(r, 60_000).unref())]);
  }
  progress({ phase: 'done' });
  return {
    siteObjectId: siteId,
    base36Id: objectIdToBase36(siteId),
    created: !existing,
    uploaded: toStore.map((l) => l.file.path),
    unchanged,
    headersChanged: headersChanged.map((h) => h.local.file.path),
    removed,
    ignored: scanned.ignored,
    quilts,
    cost,
    resources,
    changed: !existing || ops.length > 0,
    deletedBlobs,
  };
}

/**
 * Deletes the signer's deletable Blob objects of `candidates` (blob IDs) that no resource of any
 * of the signer's sites refers to. Failures are not fatal (the blobs then simply expire).
 */
async function deleteUnreferenced(chain: SiteChain, signer: Signer, candidates: ReadonlySet<string>): Promise<ObjectId[]> {
  if (candidates.size === 0) return [];
  const owner = signer.toSuiAddress();
  const referenced = new Set<string>();
  for (const site of await chain.sitesOwnedBy(owner))
    for (const r of await chain.siteResources(site.id)) referenced.add(blobIdToString(r.blobId));
  const deleted: ObjectId[] = [];
  for (const o of await chain.ownedObjects(owner)) {
    if (o.kind !== 'blob' || !o.object.deletable) continue;
    const id = blobIdToString(o.object.blobId);
    if (!candidates.has(id) || referenced.has(id)) continue;
    try {
      await chain.deleteBlob(signer, o.object.id);
      deleted.push(o.object.id);
    } catch {
      // Left to expire.
    }
  }
  return deleted;
}

/** `0x` + version 1 ‖ start u16 LE ‖ end u16 LE, as the site-builder writes the patch header. */
export function patchInternalId(start: number, end: number): string {
  const b = Buffer.alloc(5);
  b[0] = 1;
  b.writeUInt16LE(start, 1);
  b.writeUInt16LE(end, 3);
  return `0x${b.toString('hex')}`;
}

/** Parses `patchInternalId`'s form; null when malformed. */
export function parsePatchInternalId(text: string): { start: number; end: number } | null {
  if (!/^0x01[0-9a-fA-F]{8}$/.test(text)) return null;
  const b = Buffer.from(text.slice(2), 'hex');
  return { start: b.readUInt16LE(1), end: b.readUInt16LE(3) };
}

function sameHeaders(a: readonly (readonly [string, string])[], b: readonly (readonly [string, string])[]): boolean {
  return a.length === b.length && a.every(([k, v], i) => b[i][0] === k && b[i][1] === v);
}

/** Groups files into quilts: by size (small first), at most `maxPatches` and `maxBytes` each. */
function packQuilts(files: LocalResource[], maxPatches: number, maxBytes: number): LocalResource[][] {
  const sorted = [...files].sort((a, b) => a.file.size - b.file.size);
  const groups: LocalResource[][] = [];
  let cur: LocalResource[] = [];
  let bytes = 0;
  for (const f of sorted) {
    if (cur.length > 0 && (cur.length >= maxPatches || bytes + f.file.size > maxBytes)) {
      groups.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(f);
    bytes += f.file.size;
  }
  if (cur.length > 0) groups.push(cur);
  return groups;
}

/**
 * Destroys the signer's site: one call removes every resource, the routes and the redirects,
 * a second burns the Site object (Move's `burn` needs routes and redirects gone first); then the
 * signer's deletable Blob objects of its quilts are deleted unless another of the signer's
 * sites still refers to them.
 * @throws TuskInputError when the site does not exist or is not the signer's.
 */
export async function destroySite(
  chain: SiteChain,
  signer: Signer,
  siteId: ObjectId,
): Promise<{ removed: number; deletedBlobs: ObjectId[] }> {
  const site = await chain.getSite(siteId);
  if (!site) throw new TuskInputError(`site ${siteId} does not exist`);
  if (site.owner !== signer.toSuiAddress()) throw new TuskInputError(`site ${siteId} is owned by ${site.owner}, not by this wallet`);
  const resources = await chain.siteResources(siteId);
  const ops: SiteOp[] = resources.map((r) => ({ op: 'removeResource', path: r.path }));
  if (site.routes !== null) ops.push({ op: 'setRoutes', routes: null });
  if (site.redirects !== null) ops.push({ op: 'setRedirects', redirects: null });
  if (ops.length > 0) await updateSite(chain, signer, siteId, ops);
  await burnSite(chain, signer, siteId);
  const deletedBlobs = await deleteUnreferenced(chain, signer, new Set(resources.map((r) => blobIdToString(r.blobId))));
  return { removed: resources.length, deletedBlobs };
}
