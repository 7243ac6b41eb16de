/**
 * `tusk site …`: Walrus Sites on a Tusk network — `publish <dir>` (a new site; `--json` prints
 * `siteObjectId` and `base36Id`), `update <dir> <site id>` (stores only changed files, removes
 * vanished ones, applies the diff in one chain call), `list`, `info <site id>`, `destroy <site
 * id>`, `convert <object id>` (hex ↔ base36). A site ID is accepted in hex (0x…) or base36.
 * The directory's `ws-resources.json` is read with the site-builder's strict schema.
 */
import { RemoteChain } from '../chain/remote/client.ts';
import { blobIdToString } from '../codec/blob-id.ts';
import { defaultConfigPath, loadClientConfig, loadWallet } from '../client/client-config.ts';
import { base36ToObjectId, objectIdToBase36 } from '../site/base36.ts';
import { destroySite, publishSite, type PublishProgress } from '../site/publish-site.ts';
import { bar, intOption, parseCommand, print, progressLine } from './common.ts';

/** Usage text of the site commands. */
export const SITE_USAGE = `Websites (Walrus Sites; ws-resources.json as the official site-builder reads it):
  site publish <dir> --epochs N         Publish <dir> as a new site (small files go into quilts);
                                        prints the site's object ID, base36 ID and portal URLs.
                                        Also --permanent, --name <s>, --portal <url>.
  site update <dir> <site id> --epochs N
                                        Store only the files that changed, remove vanished ones;
                                        the whole diff is one chain transaction.
  site list                             Your sites.
  site info <site id>                   A site's fields, routes, redirects and resources.
  site destroy <site id>                Remove every resource and burn the Site object.
  site convert <object id>              0x… ⇄ base36 (the subdomain form).
`;

const OPTIONS = {
  config: { type: 'string' },
  json: { type: 'boolean', default: false },
  epochs: { type: 'string' },
  permanent: { type: 'boolean', default: false },
  name: { type: 'string' },
  portal: { type: 'string' },
} as const;

/** A site ID in hex or base36. */
function siteIdArg(text: string | undefined, usageError: (m: string) => Error): string {
  if (text === undefined) throw usageError('a site ID is required (0x… or base36)');
  if (/^0x[0-9a-fA-F]{64}$/.test(text)) return text.toLowerCase();
  const hex = base36ToObjectId(text);
  if (!hex) throw usageError(`malformed site ID ${JSON.stringify(text)} (expected 0x and 64 hex digits, or its base36 form)`);
  return hex;
}

/** Runs `tusk site <sub> …`; resolves to the exit code. */
export async function siteCommand(argv: string[], usageError: (m: string) => Error, signal?: AbortSignal): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseCommand(`site ${sub ?? ''}`.trim(), rest, OPTIONS);
  const connect = async () => {
    const config = await loadClientConfig(values.config ?? defaultConfigPath());
    return { config, chain: new RemoteChain({ url: config.chainUrl }) };
  };
  const urls = (b36: string) => {
    const portal = new URL(values.portal ?? 'http://127.0.0.1:31415');
    return { subdomain: `${portal.protocol}//${b36}.localhost:${portal.port || 80}/`, path: `${portal.origin}/site/${b36}/` };
  };
  switch (sub) {
    case 'publish':
    case 'update': {
      const want = sub === 'publish' ? 1 : 2;
      if (positionals.length !== want)
        throw usageError(sub === 'publish' ? 'site publish takes one directory' : 'site update takes a directory and a site ID');
      if (values.epochs === undefined) throw usageError('--epochs is required');
      const epochs = intOption(values.epochs, 'epochs', 1, 2 ** 32 - 1)!;
      const siteId = sub === 'update' ? siteIdArg(positionals[1], usageError) : undefined;
      const { config, chain } = await connect();
      const wallet = await loadWallet(config.wallet);
      const p = progressLine(!values.json);
      const onProgress = (e: PublishProgress) => {
        if (e.phase === 'store' && e.total) p.show(`storing changed files ${bar(e.done ?? 0, e.total)}`);
        else if (e.phase === 'hash' && e.total) p.show(`hashing ${bar(e.done ?? 0, e.total)}`);
        else p.show(`${e.phase}…`, true);
      };
      try {
        const r = await publishSite(positionals[0], {
          chain,
          signer: wallet,
          epochs,
          permanent: values.permanent,
          siteId,
          siteName: values.name,
          signal,
          onProgress,
        });
        p.clear();
        const u = urls(r.base36Id);
        print(
          values.json,
          {
            siteObjectId: r.siteObjectId,
            base36Id: r.base36Id,
            created: r.created,
            resources: r.resources,
            uploaded: r.uploaded,
            unchanged: r.unchanged.length,
            headersChanged: r.headersChanged,
            removed: r.removed,
            ignored: r.ignored,
            quilts: r.quilts,
            deletedBlobs: r.deletedBlobs,
            cost: String(r.cost),
            url: u.subdomain,
            pathUrl: u.path,
          },
          [
            `${r.created ? 'Created' : r.changed ? 'Updated' : 'Unchanged'} site ${r.siteObjectId}`,
            `base36 ID: ${r.base36Id}`,
            `resources: ${r.resources} (${r.uploaded.length} stored in ${r.quilts.length} quilt(s), ${r.unchanged.length} unchanged, ${r.headersChanged.length} with new headers, ${r.removed.length} removed, ${r.ignored.length} ignored)`,
            `cost: ${r.cost} FROST`,
            `browse: ${u.subdomain}  or  ${u.path}  (tusk daemon serves the portal)`,
          ].join('\n'),
        );
      } finally {
        p.clear();
      }
      return 0;
    }
    case 'list': {
      if (positionals.length > 0) throw usageError('site list takes no arguments');
      const { config, chain } = await connect();
      const wallet = await loadWallet(config.wallet);
      const sites = await chain.sitesOwnedBy(wallet.toSuiAddress());
      print(
        values.json,
        sites.map((s) => ({
          siteObjectId: s.id,
          base36Id: objectIdToBase36(s.id),
          name: s.name,
          resources: s.resourceCount,
          version: s.version,
        })),
        sites.length === 0
          ? 'no sites'
          : sites.map((s) => `${s.id}  ${objectIdToBase36(s.id)}  ${s.resourceCount} resources  ${JSON.stringify(s.name)}`).join('\n'),
      );
      return 0;
    }
    case 'info': {
      if (positionals.length !== 1) throw usageError('site info takes one site ID');
      const id = siteIdArg(positionals[0], usageError);
      const { chain } = await connect();
      const site = await chain.getSite(id);
      if (!site) throw usageError(`site ${id} does not exist`);
      const resources = await chain.siteResources(id);
      const json = {
        ...site,
        base36Id: objectIdToBase36(id),
        resources: resources.map((r) => ({
          path: r.path,
          headers: Object.fromEntries(r.headers),
          blobId: blobIdToString(r.blobId),
          blobHash: Buffer.from(r.blobHash).toString('hex'),
          range: r.range,
        })),
      };
      print(
        values.json,
        json,
        [
          `site ${id} (${objectIdToBase36(id)}) ${JSON.stringify(site.name)}, owner ${site.owner}, version ${site.version}`,
          ...(site.routes ?? []).map(([k, v]) => `  route ${k} → ${v}`),
          ...(site.redirects ?? []).map(([k, v]) => `  redirect ${k} → ${v.location} (${v.statusCode})`),
          ...json.resources.map((r) => `  ${r.path}  ${r.blobId}  sha256 ${r.blobHash.slice(0, 16)}…  ${r.headers['content-type'] ?? ''}`),
        ].join('\n'),
      );
      return 0;
    }
    case 'destroy': {
      if (positionals.length !== 1) throw usageError('site destroy takes one site ID');
      const id = siteIdArg(positionals[0], usageError);
      const { config, chain } = await connect();
      const wallet = await loadWallet(config.wallet);
      const r = await destroySite(chain, wallet, id);
      print(
        values.json,
        { siteObjectId: id, destroyed: true, removedResources: r.removed, deletedBlobs: r.deletedBlobs },
        `destroyed site ${id} (${r.removed} resources; ${r.deletedBlobs.length} blob object(s) deleted)`,
      );
      return 0;
    }
    case 'convert': {
      if (positionals.length !== 1) throw usageError('site convert takes one object ID');
      const text = positionals[0];
      const out = /^0x/i.test(text) ? objectIdToBase36(siteIdArg(text, usageError)) : siteIdArg(text, usageError);
      print(values.json, { result: out }, out);
      return 0;
    }
    default:
      throw usageError(`site needs a subcommand: publish, update, list, info, destroy, convert (got ${JSON.stringify(sub ?? '')})`);
  }
}
