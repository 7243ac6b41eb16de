/** Shared by the gateway tests: a local network of processes and small HTTP helpers. */
import { connect } from 'node:net';
import { createHmac } from 'node:crypto';

/** A response read whole. */
export interface Answer {
  status: number;
  headers: Headers;
  body: Uint8Array;
  text: string;
}

/** `fetch` and read the whole body. */
export async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, init);
  const body = new Uint8Array(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body, text: Buffer.from(body).toString('utf8') };
}

/** The ErrorInfo reason of a Walrus error envelope. */
export function reasonOf(a: Answer): string {
  return JSON.parse(a.text).error.details[0].reason;
}

/**
 * Sends raw HTTP/1.1 `head` (request line + headers, without the blank line) and then `body`,
 * over a plain socket; resolves to what the server answered (status line and text) or '' when the
 * socket closed without an answer.
 */
export function rawRequest(url: string, head: string, body: Uint8Array | null, options: { destroyAfterMs?: number } = {}): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const sock = connect(Number(u.port), u.hostname);
    let got = '';
    sock.on('data', (d) => (got += d.toString('latin1')));
    sock.on('close', () => resolve(got));
    sock.on('error', () => {});
    sock.write(`${head}\r\nHost: ${u.host}\r\n\r\n`);
    if (body) sock.write(body);
    if (options.destroyAfterMs !== undefined) setTimeout(() => sock.destroy(), options.destroyAfterMs);
  });
}

/** An HS256 JWT with `claims`, signed with `secret`. */
export function hs256(claims: Record<string, unknown>, secret: string, alg = 'HS256'): string {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const head = `${enc({ alg, typ: 'JWT' })}.${enc(claims)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}
