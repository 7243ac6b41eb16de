/**
 * How a portal resolves a request path against a site (sites-and-encryption.md §A6), as pure
 * functions: the candidate resource paths of a URL path (Tusk serves `index.html` for a
 * directory, which Walrus's portal does only through explicit routes), redirect matching (glob:
 * `*` within one segment, `**` across segments; the most literal characters win, then the fewest
 * stars) and route matching (the portal's default legacy form: `*` matches anything, the longest
 * pattern wins).
 */
import type { SiteRedirect } from '../chain/site-objects.ts';

/**
 * The resource paths to try, in order, for a decoded URL path: `/` → `/index.html`; `/docs/` →
 * `/docs/index.html`, then `/docs`; `/docs` → `/docs`, then `/docs/index.html`.
 */
export function candidatePaths(path: string): string[] {
  if (path === '/' || path === '') return ['/index.html'];
  if (path.endsWith('/')) return [`${path}index.html`, path.slice(0, -1)];
  return [path, `${path}/index.html`];
}

function redirectRegex(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else re += c.replace(/[.+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

/** The redirect for `path`, or null. */
export function matchRedirect(redirects: readonly (readonly [string, SiteRedirect])[] | null, path: string): SiteRedirect | null {
  if (!redirects) return null;
  let best: { r: SiteRedirect; literal: number; stars: number } | null = null;
  for (const [glob, r] of redirects) {
    if (!redirectRegex(glob).test(path)) continue;
    const stars = (glob.match(/\*/g) ?? []).length;
    const literal = glob.length - stars;
    if (!best || literal > best.literal || (literal === best.literal && stars < best.stars)) best = { r, literal, stars };
  }
  return best?.r ?? null;
}

/** The route target (a resource path) for `path`, or null. */
export function matchRoute(routes: readonly (readonly [string, string])[] | null, path: string): string | null {
  if (!routes) return null;
  let best: [string, string] | null = null;
  for (const [pattern, target] of routes) {
    const re = new RegExp(
      `^${pattern
        .split('*')
        .map((s) => s.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
        .join('.*')}$`,
      's',
    );
    if (re.test(path) && (!best || pattern.length > best[0].length)) best = [pattern, target];
  }
  return best?.[1] ?? null;
}
