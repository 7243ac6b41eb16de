/**
 * `ws-resources.json`, the per-site configuration of Walrus Sites (sites-and-encryption.md §A3),
 * read with the site-builder's strict schema: `headers`, `routes`, `redirects`, `metadata`,
 * `site_name`, `object_id`, `ignore`, and nothing else (serde `deny_unknown_fields`: an unknown
 * key is an error, so a file Tusk accepts is one the official site-builder accepts). Also the
 * rules applied per file: header globs (the pattern with the most `/`-separated segments wins,
 * no merging), the default `content-encoding: identity` and `content-type` from the extension,
 * and ignore globs.
 */
import { TuskInputError } from '../errors.ts';
import type { SiteMetadata, SiteRedirect } from '../chain/site-objects.ts';
import { REDIRECT_STATUS_CODES } from '../chain/site-objects.ts';

/** The file's name inside a site directory (never uploaded). */
export const WS_RESOURCES_FILE = 'ws-resources.json';

/** A parsed `ws-resources.json`. Maps keep the file's key order. */
export interface WsResources {
  readonly headers: readonly (readonly [string, readonly (readonly [string, string])[]])[];
  readonly routes: readonly (readonly [string, string])[] | null;
  readonly redirects: readonly (readonly [string, SiteRedirect])[] | null;
  readonly metadata: SiteMetadata | null;
  readonly siteName: string | null;
  readonly objectId: string | null;
  readonly ignore: readonly string[];
}

/** An invalid `ws-resources.json` (a TuskInputError naming the file and the key). */
export class WsResourcesError extends TuskInputError {}

const KEYS = new Set(['headers', 'routes', 'redirects', 'metadata', 'site_name', 'object_id', 'ignore']);
const METADATA_KEYS: Record<string, keyof SiteMetadata> = {
  link: 'link',
  image_url: 'imageUrl',
  description: 'description',
  project_url: 'projectUrl',
  creator: 'creator',
};

/**
 * Parses the text of a `ws-resources.json` (`where` names it in errors).
 * @throws WsResourcesError for malformed JSON, an unknown key, or a value of the wrong type.
 */
export function parseWsResources(text: string, where = WS_RESOURCES_FILE): WsResources {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new WsResourcesError(`${where}: not valid JSON: ${(e as Error).message}`);
  }
  const fail = (m: string): never => {
    throw new WsResourcesError(`${where}: ${m}`);
  };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail('must be a JSON object');
  const obj = raw as Record<string, unknown>;
  for (const k of Object.keys(obj)) if (!KEYS.has(k)) fail(`unknown field \`${k}\`, expected one of ${[...KEYS].join(', ')}`);
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  const stringMap = (v: unknown, what: string): [string, string][] => {
    if (!isObject(v)) fail(`${what} must be an object of strings`);
    return Object.entries(v as Record<string, unknown>).map(([k, x]) => {
      if (typeof x !== 'string') fail(`${what}.${k} must be a string`);
      return [k, x as string];
    });
  };
  const present = (k: string) => obj[k] !== undefined && obj[k] !== null;
  let headers: [string, [string, string][]][] = [];
  if (present('headers')) {
    if (!isObject(obj.headers)) fail('headers must be an object of {"<glob>": {"<Header>": "<value>"}}');
    headers = Object.entries(obj.headers as Record<string, unknown>).map(([glob, h]) => {
      const pairs = stringMap(h, `headers["${glob}"]`).map(([k, v]): [string, string] => {
        if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) fail(`headers["${glob}"]: ${JSON.stringify(k)} is not a header name`);
        if (/[\r\n\0]/.test(v)) fail(`headers["${glob}"].${k}: a header value cannot hold CR, LF or NUL`);
        return [k.toLowerCase(), v];
      });
      return [glob, pairs];
    });
  }
  const routes = present('routes') ? stringMap(obj.routes, 'routes') : null;
  let redirects: [string, SiteRedirect][] | null = null;
  if (present('redirects')) {
    if (!isObject(obj.redirects)) fail('redirects must be an object of {"<glob>": {"location": "…", "status_code": 301…308}}');
    redirects = Object.entries(obj.redirects as Record<string, unknown>).map(([glob, r]) => {
      if (!isObject(r)) fail(`redirects["${glob}"] must be {"location", "status_code"}`);
      const rr = r as Record<string, unknown>;
      for (const k of Object.keys(rr)) if (k !== 'location' && k !== 'status_code') fail(`redirects["${glob}"]: unknown field \`${k}\``);
      if (typeof rr.location !== 'string') fail(`redirects["${glob}"].location must be a string`);
      if (!REDIRECT_STATUS_CODES.has(rr.status_code as number))
        fail(`redirects["${glob}"].status_code must be one of 301, 302, 303, 307, 308`);
      return [glob, { location: rr.location as string, statusCode: rr.status_code as number }];
    });
  }
  let metadata: SiteMetadata | null = null;
  if (present('metadata')) {
    if (!isObject(obj.metadata)) fail('metadata must be an object');
    const m: Record<string, string | null> = {};
    for (const [k, v] of Object.entries(obj.metadata as Record<string, unknown>)) {
      if (!(k in METADATA_KEYS)) fail(`metadata: unknown field \`${k}\`, expected one of ${Object.keys(METADATA_KEYS).join(', ')}`);
      if (v !== null && typeof v !== 'string') fail(`metadata.${k} must be a string`);
      m[METADATA_KEYS[k]] = v as string | null;
    }
    metadata = m as SiteMetadata;
  }
  if (present('site_name') && typeof obj.site_name !== 'string') fail('site_name must be a string');
  if (present('object_id') && (typeof obj.object_id !== 'string' || !/^0x[0-9a-fA-F]{1,64}$/.test(obj.object_id)))
    fail('object_id must be a 0x-prefixed hex object ID');
  let ignore: string[] = [];
  if (present('ignore')) {
    if (!Array.isArray(obj.ignore) || !obj.ignore.every((g) => typeof g === 'string')) fail('ignore must be an array of glob strings');
    ignore = obj.ignore as string[];
  }
  return {
    headers,
    routes,
    redirects,
    metadata,
    siteName: present('site_name') ? (obj.site_name as string) : null,
    objectId: present('object_id') ? (obj.object_id as string) : null,
    ignore,
  };
}

/**
 * A glob as Rust's `glob::Pattern` matches it by default: `*` and `**` any run of characters
 * (including `/`), `?` one character, `[…]` / `[!…]` a class.
 */
export function globRegex(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      while (glob[i + 1] === '*') i++;
      re += '.*';
    } else if (c === '?') re += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let body = glob.slice(i + 1, end);
        if (body.startsWith('!')) body = '^' + body.slice(1);
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

/** Whether `path` (e.g. `/img/a.png`) is ignored by one of `ignore`'s globs. */
export function isIgnored(ws: WsResources, path: string): boolean {
  return ws.ignore.some((g) => globRegex(g).test(path));
}

const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html',
  htm: 'text/html',
  css: 'text/css',
  js: 'text/javascript',
  mjs: 'text/javascript',
  json: 'application/json',
  map: 'application/json',
  txt: 'text/plain',
  md: 'text/markdown',
  xml: 'application/xml',
  svg: 'image/svg+xml',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  ico: 'image/vnd.microsoft.icon',
  webm: 'video/webm',
  mp4: 'video/mp4',
  ogg: 'audio/ogg',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  woff: 'font/woff',
  woff2: 'font/woff2',
  ttf: 'font/ttf',
  otf: 'font/otf',
  wasm: 'application/wasm',
  pdf: 'application/pdf',
  zip: 'application/zip',
};

/** The content type of a path by its extension (`application/octet-stream` when unknown). */
export function contentTypeOf(path: string): string {
  const m = /\.([^./]+)$/.exec(path);
  return (m && CONTENT_TYPES[m[1].toLowerCase()]) ?? 'application/octet-stream';
}

/**
 * The headers of the resource at `path`: the `headers` entry whose glob matches with the most
 * `/`-separated segments (no merging), then `content-encoding: identity` and `content-type` by
 * extension where not given. Keys lower-case.
 */
export function headersFor(ws: WsResources, path: string): [string, string][] {
  let best: readonly (readonly [string, string])[] = [];
  let bestSegments = -1;
  for (const [glob, h] of ws.headers) {
    if (!globRegex(glob).test(path)) continue;
    const segments = glob.split('/').length;
    if (segments > bestSegments) {
      best = h;
      bestSegments = segments;
    }
  }
  const out: [string, string][] = best.map(([k, v]) => [k, v]);
  if (!out.some(([k]) => k === 'content-encoding')) out.unshift(['content-encoding', 'identity']);
  if (!out.some(([k]) => k === 'content-type')) out.unshift(['content-type', contentTypeOf(path)]);
  return out;
}
