/**
 * Slow and idle clients against the chain server on 127.0.0.1 (issue 22 item 8): a POST that sends
 * 5 of its 1000 bytes is dropped by a real `tusk chain serve` process after the body-idle timeout,
 * headers that trickle in are cut off, one peer holds at most its connection cap, and long polls
 * (which answer late but were received at once) are not cut by the request timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { LocalChain } from '../../src/chain/local/index.ts';
import { startChainServer, type ChainServer } from '../../src/chain/remote/server.ts';
import { spawnChainServer, tempDir, type ServerProcess } from './remote-helpers.ts';

interface RawClient {
  sock: Socket;
  answer: Promise<string>;
  closed: Promise<number>;
}

/** Raw TCP client: writes `head`, collects the answer; `closed` resolves with the ms until close. */
function open(url: string, head: string): Promise<RawClient> {
  const { port, hostname } = new URL(url);
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    let text = '';
    const sock = connect(Number(port), hostname, () => {
      if (head) sock.write(head);
      resolve({ sock, answer, closed });
    });
    sock.on('error', () => {});
    const answer = new Promise<string>((r) => {
      sock.on('data', (d) => {
        text += d.toString('latin1');
        if (/\r\n\r\n[\s\S]*\}/.test(text)) r(text);
      });
      sock.on('close', () => r(text));
    });
    const closed = new Promise<number>((r) => sock.on('close', () => r(Date.now() - t0)));
    sock.once('error', reject);
  });
}

describe('chain server under slow and idle clients', () => {
  const dir = tempDir('tusk-chain-slow-');
  let proc: ServerProcess;
  let chain: LocalChain;
  let server: ChainServer;
  beforeAll(async () => {
    proc = await spawnChainServer(join(dir, 'proc'), ['--n-shards', '10']);
    chain = await LocalChain.open({ path: join(dir, 'chain.sqlite'), nShards: 10 });
    server = await startChainServer({
      chain,
      port: 0,
      headersTimeoutMs: 1000,
      requestTimeoutMs: 1500,
      bodyIdleTimeoutMs: 500,
      maxConnectionsPerPeer: 4,
    });
  });
  afterAll(async () => {
    proc?.child.kill('SIGKILL');
    await server?.close();
    await chain?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a real `tusk chain serve` drops a POST that sends 5 of its 1000 bytes (408, closed within the 10 s body-idle timeout)', async () => {
    const c = await open(
      proc.url,
      'POST /v1/transactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"byt',
    );
    const timeout = new Promise<never>((_, rej) => setTimeout(() => rej(new Error('the connection was still open after 15 s')), 15_000));
    const ms = await Promise.race([c.closed, timeout]);
    expect(await c.answer).toMatch(/^HTTP\/1\.1 408[\s\S]*ERequestTimeout/);
    expect(ms).toBeGreaterThanOrEqual(9_000);
    // The server still serves everyone else.
    expect((await fetch(`${proc.url}/v1/health`)).status).toBe(200);
  }, 30_000);

  it('headers that trickle in are cut off after headersTimeoutMs', async () => {
    const c = await open(server.url, 'GET /v1/health HTTP/1.1\r\nHost: x\r\n');
    const timeout = new Promise<never>((_, rej) => setTimeout(() => rej(new Error('the connection was still open after 5 s')), 5_000));
    expect(await Promise.race([c.closed, timeout])).toBeLessThan(5_000);
  });

  it('a stalled body is answered 408 after bodyIdleTimeoutMs', async () => {
    const c = await open(
      server.url,
      'POST /v1/faucet HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"re',
    );
    expect(await c.answer).toMatch(/^HTTP\/1\.1 408/);
    expect(await c.closed).toBeLessThan(3_000);
  });

  it('one peer holds at most maxConnectionsPerPeer connections; the next is answered 429 and closed', async () => {
    const idle = await Promise.all(Array.from({ length: 4 }, () => open(server.url, '')));
    await new Promise((r) => setTimeout(r, 100));
    const fifth = await open(server.url, 'GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await fifth.answer).toMatch(/^HTTP\/1\.1 429[\s\S]*ETooManyConnections/);
    await fifth.closed;
    for (const c of idle) c.sock.destroy();
    await Promise.all(idle.map((c) => c.closed));
    expect((await fetch(`${server.url}/v1/health`)).status).toBe(200);
  });

  it('a long poll longer than requestTimeoutMs is still answered', async () => {
    const t0 = Date.now();
    const state = await (await fetch(`${server.url}/v1/system-state`)).text();
    expect(state.length).toBeGreaterThan(0);
    const r = await fetch(`${server.url}/v1/events?cursor=&limit=1000&waitMs=2500`);
    expect(r.status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});
