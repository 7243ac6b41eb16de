/**
 * `tusk/site`: Walrus Sites on Tusk — publishing a directory (ws-resources.json as the official
 * site-builder reads it), updating and destroying a site, the on-chain Site objects and calls,
 * base36 IDs, path resolution, and the portal the gateway serves.
 */
export {
  publishSite,
  destroySite,
  patchInternalId,
  parsePatchInternalId,
  QUILT_PATCH_HEADER,
  DEFAULT_SITE_NAME,
} from '../site/publish-site.ts';
export type { PublishSiteOptions, PublishSiteResult, PublishProgress, SiteChain } from '../site/publish-site.ts';
export { scanSiteDirectory } from '../site/site-dir.ts';
export type { SiteDirectory, SiteFile } from '../site/site-dir.ts';
export { parseWsResources, headersFor, contentTypeOf, isIgnored, WsResourcesError, WS_RESOURCES_FILE } from '../site/ws-resources.ts';
export type { WsResources } from '../site/ws-resources.ts';
export { objectIdToBase36, base36ToObjectId } from '../site/base36.ts';
export { candidatePaths, matchRedirect, matchRoute } from '../site/site-routing.ts';
export { createSite, updateSite, burnSite, isSiteReader, REDIRECT_STATUS_CODES } from '../chain/site-objects.ts';
export type { SiteObject, SiteResource, SiteRange, SiteRedirect, SiteMetadata, SiteOp, SiteReader } from '../chain/site-objects.ts';
export { Portal, type PortalOptions, type PortalStats } from '../gateway/portal.ts';
