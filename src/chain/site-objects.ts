/**
 * Walrus Sites on Tusk's chain: the object types (Walrus Sites' `site.move` structs — `Site`,
 * `Resource`, `Range`, routes and redirects as ordered maps — sites-and-encryption.md §A2), the
 * edit operations a publish or update is made of, the read interface (`SiteReader`) both the
 * embedded chain and its HTTP client implement, and the signed calls (`createSite`, `updateSite`,
 * `burnSite`). A whole publish or update is ONE call, so the local chain applies it in one SQLite
 * transaction: a site is never seen half-updated (Walrus needs several PTBs for a big site).
 */
import type { Signer } from '@mysten/sui/cryptography';
import type { BlobId } from '../codec/blob-id.ts';
import { signTransaction, type SignedTransaction } from './transaction.ts';
import type { Address, ObjectId, TxEffects } from './types.ts';

/** `Range { start: Option<u64>, end: Option<u64> }`, both inclusive; not both null, end > start. */
export interface SiteRange {
  readonly start: number | null;
  readonly end: number | null;
}

/** `Resource`: one path of a site. */
export interface SiteResource {
  /** Absolute resource path, e.g. `/index.html`. */
  readonly path: string;
  /** `VecMap<String, String>` in insertion order (keys lower-case, unique). */
  readonly headers: readonly (readonly [string, string])[];
  /** The blob holding the bytes (for a quilt patch: the quilt ID). */
  readonly blobId: BlobId;
  /** SHA-256 of the resource's bytes (32 bytes; Walrus stores it as a little-endian u256). */
  readonly blobHash: Uint8Array;
  readonly range: SiteRange | null;
}

/** A redirect target: `Redirect { location, status_code }`, status ∈ {301, 302, 303, 307, 308}. */
export interface SiteRedirect {
  readonly location: string;
  readonly statusCode: number;
}

/** The Display metadata of a site (`Metadata` in metadata.move). */
export interface SiteMetadata {
  readonly link?: string | null;
  readonly imageUrl?: string | null;
  readonly description?: string | null;
  readonly projectUrl?: string | null;
  readonly creator?: string | null;
}

/** A `Site` object with its routes and redirects (dynamic fields in Move). */
export interface SiteObject {
  readonly id: ObjectId;
  readonly owner: Address;
  readonly name: string;
  readonly link: string | null;
  readonly imageUrl: string | null;
  readonly description: string | null;
  readonly projectUrl: string | null;
  readonly creator: string | null;
  /** `Routes.route_list` (pattern → resource path), or null when the site has no routes field. */
  readonly routes: readonly (readonly [string, string])[] | null;
  readonly redirects: readonly (readonly [string, SiteRedirect])[] | null;
  readonly resourceCount: number;
  /** Incremented by every update (the Sui object version's role). */
  readonly version: number;
}

/** One edit of a site; a call applies a list of them in order, all or nothing. */
export type SiteOp =
  | { readonly op: 'addResource'; readonly resource: SiteResource }
  | { readonly op: 'removeResource'; readonly path: string }
  /** Replaces the routes (null removes the field, as `remove_all_routes_if_exist`). */
  | { readonly op: 'setRoutes'; readonly routes: readonly (readonly [string, string])[] | null }
  | { readonly op: 'setRedirects'; readonly redirects: readonly (readonly [string, SiteRedirect])[] | null }
  | { readonly op: 'setName'; readonly name: string }
  | { readonly op: 'setMetadata'; readonly metadata: SiteMetadata };

/** The site reads a chain offers (LocalChain and RemoteChain implement it). */
export interface SiteReader {
  /** The site, or null if it does not exist (or was burned). */
  getSite(siteId: ObjectId): Promise<SiteObject | null>;
  /** One resource by path, or null. */
  siteResource(siteId: ObjectId, path: string): Promise<SiteResource | null>;
  /** Every resource of the site, by path. */
  siteResources(siteId: ObjectId): Promise<SiteResource[]>;
  /** Sites owned by `owner`. */
  sitesOwnedBy(owner: Address): Promise<SiteObject[]>;
}

/** Whether `chain` offers the site reads. */
export function isSiteReader(chain: unknown): chain is SiteReader {
  const c = chain as Partial<SiteReader> | null;
  return !!c && typeof c.getSite === 'function' && typeof c.siteResource === 'function' && typeof c.siteResources === 'function';
}

/** What the site calls need of a chain: its ID and `submit` (LocalChain, RemoteChain). */
export interface SubmittingChain {
  chainId(): Promise<string>;
  submit(tx: SignedTransaction): Promise<unknown>;
}

/** Redirect status codes Walrus Sites accepts (redirects.move). */
export const REDIRECT_STATUS_CODES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/**
 * Creates a site owned by the signer, named `name`, with `ops` applied, in one transaction.
 * Emits `SiteCreated`. @throws ChainAbortError for a Move rule broken by `ops`.
 */
export async function createSite(
  chain: SubmittingChain,
  signer: Signer,
  name: string,
  ops: readonly SiteOp[],
): Promise<TxEffects & { site: SiteObject }> {
  const tx = await signTransaction(signer, await chain.chainId(), 'createSite', { name, ops: ops as unknown[] });
  return (await chain.submit(tx)) as TxEffects & { site: SiteObject };
}

/**
 * Applies `ops` to the signer's site in one transaction (all or nothing). Emits `SiteUpdated`.
 * @throws ChainAbortError `ENotOwner`, `EObjectNotFound`, or a Move rule broken by `ops`.
 */
export async function updateSite(
  chain: SubmittingChain,
  signer: Signer,
  siteId: ObjectId,
  ops: readonly SiteOp[],
): Promise<TxEffects & { site: SiteObject }> {
  const tx = await signTransaction(signer, await chain.chainId(), 'updateSite', { siteId, ops: ops as unknown[] });
  return (await chain.submit(tx)) as TxEffects & { site: SiteObject };
}

/**
 * Burns the signer's site. As in Move, routes and redirects must have been removed first
 * (`ERoutesOrRedirectsExist`); unlike Move, the resources are deleted with it (no orphans).
 * Emits `SiteBurned`.
 */
export async function burnSite(chain: SubmittingChain, signer: Signer, siteId: ObjectId): Promise<TxEffects> {
  const tx = await signTransaction(signer, await chain.chainId(), 'burnSite', { siteId });
  return (await chain.submit(tx)) as TxEffects;
}
