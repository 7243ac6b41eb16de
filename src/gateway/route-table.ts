/**
 * The gateway's route table. Every route is a `RouteDefinition` (method, path template, declared
 * query parameters, documented responses, admission class, handler); the server dispatches from
 * the table and `/v1/api` renders the OpenAPI document generated from the very same definitions,
 * so the documentation cannot drift from the code. Other features (quilts) add routes by
 * registering more definitions.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { QueryParam } from './http.ts';

/** Which admission queue guards a route (walrus-http.md §1.1, §2.1); `none` for health/docs. */
export type AdmissionClass = 'publisher' | 'aggregator' | 'none';

/** What a handler receives. */
export interface RouteContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  /** Path parameters, percent-decoded. */
  readonly params: Readonly<Record<string, string>>;
  /** Query values parsed against the route's `query` declaration (booleans, bigints, strings). */
  readonly query: Readonly<Record<string, string | boolean | bigint | undefined>>;
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal;
}

/** One route. */
export interface RouteDefinition {
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** Path template with `{name}` segments, e.g. `/v1/blobs/{blob_id}`; a last `{name+}` takes the rest (slashes included). */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly tag: 'publisher' | 'aggregator' | 'service';
  readonly pathParams?: readonly { readonly name: string; readonly description: string }[];
  readonly query: readonly QueryParam[];
  /** Request headers the route reads (documentation). */
  readonly headers?: readonly { readonly name: string; readonly description: string }[];
  readonly requestBody?: { readonly contentType: string; readonly description: string };
  /** HTTP status → description (documentation; every status the handler can answer). */
  readonly responses: Readonly<Record<number, string>>;
  readonly admission: AdmissionClass;
  /** Whether JWT authentication (when configured) applies. */
  readonly authenticated?: boolean;
  readonly handle: (ctx: RouteContext) => Promise<void>;
}

interface Compiled {
  readonly def: RouteDefinition;
  readonly regex: RegExp;
  readonly names: string[];
  readonly literals: number;
}

/** The table: registration order does not matter; literal segments win over parameters. */
export class RouteTable {
  private readonly routes: Compiled[] = [];

  /** Adds routes. @throws if a method+path is already registered. */
  register(...defs: RouteDefinition[]): this {
    for (const def of defs) {
      if (this.routes.some((r) => r.def.method === def.method && r.def.path === def.path))
        throw new Error(`route ${def.method} ${def.path} registered twice`);
      const names: string[] = [];
      const segs = def.path.split('/').slice(1);
      const pattern = segs.map((s, i) => {
        const m = /^\{(\w+)(\+?)\}$/.exec(s);
        if (m) {
          names.push(m[1]);
          return m[2] && i === segs.length - 1 ? '(.+)' : '([^/]+)';
        }
        return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      });
      this.routes.push({ def, regex: new RegExp(`^/${pattern.join('/')}$`), names, literals: segs.length - names.length });
      this.routes.sort((a, b) => b.literals - a.literals);
    }
    return this;
  }

  /** Every definition, in registration-independent order (path, then method). */
  get definitions(): RouteDefinition[] {
    return this.routes.map((r) => r.def).sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
  }

  /**
   * The route for `method` and `path`: `{ def, params }`, `'method'` when the path exists with
   * other methods only (405), or null (404). HEAD matches GET.
   */
  match(method: string, path: string): { def: RouteDefinition; params: Record<string, string> } | 'method' | null {
    let pathMatched = false;
    const m = method === 'HEAD' ? 'GET' : method;
    for (const r of this.routes) {
      const hit = r.regex.exec(path);
      if (!hit) continue;
      pathMatched = true;
      if (r.def.method !== m) continue;
      const params: Record<string, string> = {};
      try {
        r.names.forEach((n, i) => (params[n] = decodeURIComponent(hit[i + 1])));
      } catch {
        return null;
      }
      return { def: r.def, params };
    }
    return pathMatched ? 'method' : null;
  }

  /** The OpenAPI 3.0 document of the registered routes. */
  openApi(title: string, version: string): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const d of this.definitions) {
      const parameters = [
        ...(d.pathParams ?? []).map((p) => ({
          name: p.name,
          in: 'path',
          required: true,
          description: p.description,
          schema: { type: 'string' },
        })),
        ...d.query.map((q) => ({
          name: q.name,
          in: 'query',
          required: q.required === true,
          description: q.description,
          schema: { type: q.type },
        })),
        ...(d.headers ?? []).map((h) => ({
          name: h.name,
          in: 'header',
          required: false,
          description: h.description,
          schema: { type: 'string' },
        })),
      ];
      const op: Record<string, unknown> = {
        operationId: d.operationId,
        summary: d.summary,
        tags: [d.tag],
        parameters,
        responses: Object.fromEntries(Object.entries(d.responses).map(([code, description]) => [code, { description }])),
      };
      if (d.requestBody)
        op.requestBody = {
          required: true,
          description: d.requestBody.description,
          content: { [d.requestBody.contentType]: { schema: { type: 'string', format: 'binary' } } },
        };
      if (d.authenticated) op.security = [{ bearerAuth: [] }];
      (paths[d.path.replace(/\{(\w+)\+\}/g, '{$1}')] ??= {})[d.method.toLowerCase()] = op;
    }
    return {
      openapi: '3.0.3',
      info: { title, version, description: 'Walrus-compatible publisher and aggregator (Tusk).' },
      paths,
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    };
  }
}

/** The `/v1/api` page: Redoc rendering the embedded OpenAPI document (as Walrus serves it). */
export function apiPage(doc: Record<string, unknown>): string {
  const json = JSON.stringify(doc).replace(/</g, '\\u003c');
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${String((doc.info as { title: string }).title)}</title></head>
<body><div id="redoc"></div>
<script id="openapi" type="application/json">${json}</script>
<script src="https://cdn.redoc.ly/redoc/latest/bundles/redoc.standalone.js"></script>
<script>if (window.Redoc) Redoc.init(JSON.parse(document.getElementById('openapi').textContent), {}, document.getElementById('redoc'));</script>
</body></html>
`;
}
