/**
 * Slow and idle clients against a real storage node on 127.0.0.1 (issue 22 item 7): idle
 * connections that announce large bodies must not block honest uploads, the in-flight budget is
 * charged by bytes that really arrived, a stalled body is dropped after the body-idle timeout, one
 * peer cannot hold more than its connection cap, and a `?pending=true` sliver for a blob without
 * metadata is refused before its body.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { encodeBlob } from '../../src/codec/encode.ts';
import { CodecPool } from '../../src/pool/codec-pool.ts';
import { randomBytes } from '../helpers/blobs.ts';
import { type BareNode, call, pairOf, put, register, startBareNode, tempDir } from './helpers.ts';

const n = 10;
const held = [0, 1, 2, 3, 4, 5, 6];
const copy = (b: Uint8Array) => new Uint8Array(b);

interface RawClient {
  sock: Socket;
  answer: Promise<string>;
  closed: Promise<void>;
}

/** Opens a raw TCP connection, writes `head`, and collects the answer until the socket closes or a full head arrives. */
function open(url: string, head: string): Promise<RawClient> {
  const port = Number(new URL(url).port);
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => {
      if (head) sock.write(head);
      resolve({ sock, answer, closed });
    });
    sock.on('error', () => {});
    let text = '';
    const answer = new Promise<string>((r) => {
      sock.on('data', (d) => {
        text += d.toString('latin1');
        if (/\r\n\r\n[\s\S]*\}/.test(text)) r(text);
      });
      sock.on('close', () => r(text));
    });
    const closed = new Promise<void>((r) => sock.on('close', () => r()));
    sock.once('error', reject);
  });
}

const sliverHead = (blobId: string, pair: number, length: number, query = '') =>
  `PUT /v1/blobs/${blobId}/slivers/${pair}/primary${query} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${length}\r\n\r\n`;

describe('storage node under slow and idle clients', () => {
  let pool: CodecPool;
  beforeAll(() => {
    pool = new CodecPool({ threads: 1 });
  });
  afterAll(async () => {
    await pool.close();
  });

  async function withNode(
    o: Parameters<typeof startBareNode>[0]['server'] & { maxBodyBytesInFlight?: number },
    body: (node: BareNode) => Promise<void>,
  ): Promise<void> {
    const t = tempDir();
    const { maxBodyBytesInFlight, ...server } = o;
    const node = await startBareNode({ dir: t.dir, nShards: n, shards: held, pool, maxBodyBytesInFlight, server });
    try {
      await body(node);
    } finally {
      await node.close();
      t.remove();
    }
  }

  it('idle connections announcing large bodies do not block honest uploads (bytes are charged as they arrive)', async () => {
    await withNode({ maxBodyBytesInFlight: 150_000 }, async (node) => {
      // ~300 kB: its primary sliver (~75 kB) does not fit beside one declared 100 kB body.
      const blob = encodeBlob(randomBytes(300_000, 31), { nShards: n });
      expect(blob.pairs[0].primary.toBcs().length).toBeGreaterThan(50_000);
      register(node, blob.blobId);
      const pair = pairOf(blob.blobId, 0, n);
      // Five uploads declare 100 kB each (3× the budget) and send 10 bytes: under the old
      // declared-length charge the second of them was already refused, and honest uploads got 503.
      const idle = await Promise.all(
        Array.from({ length: 5 }, () => open(node.url, sliverHead(blob.blobIdString, pair, 100_000) + '0123456789')),
      );
      await new Promise((r) => setTimeout(r, 200));
      expect((await put(`${node.url}/v1/blobs/${blob.blobIdString}/metadata`, copy(blob.metadata.toBcs()))).status).toBe(201);
      expect(
        (await put(`${node.url}/v1/blobs/${blob.blobIdString}/slivers/${pair}/primary`, copy(blob.pairs[pair].primary.toBcs()))).status,
      ).toBe(201);
      for (const c of idle) c.sock.destroy();
    });
  });

  it('bytes that really arrived are bounded: the body that overflows the budget gets 503 with Retry-After', async () => {
    await withNode({ maxBodyBytesInFlight: 150_000 }, async (node) => {
      const blob = encodeBlob(randomBytes(100, 32), { nShards: n });
      register(node, blob.blobId);
      const pair = pairOf(blob.blobId, 0, n);
      const first = await open(node.url, sliverHead(blob.blobIdString, pair, 100_000) + 'x'.repeat(90_000));
      await new Promise((r) => setTimeout(r, 200));
      const second = await open(node.url, sliverHead(blob.blobIdString, pair, 100_000) + 'y'.repeat(90_000));
      expect(await second.answer).toMatch(/^HTTP\/1\.1 503[\s\S]*retry-after: 1/i);
      second.sock.destroy();
      first.sock.destroy();
      await new Promise((r) => setTimeout(r, 200));
      // Released with the connections: an honest upload passes again.
      expect((await put(`${node.url}/v1/blobs/${blob.blobIdString}/metadata`, copy(blob.metadata.toBcs()))).status).toBe(201);
    });
  });

  it('a body that stalls is answered 408 and its connection closed after the body-idle timeout', async () => {
    await withNode({ bodyIdleTimeoutMs: 400 }, async (node) => {
      const blob = encodeBlob(randomBytes(100, 33), { nShards: n });
      register(node, blob.blobId);
      const pair = pairOf(blob.blobId, 0, n);
      const started = Date.now();
      // "5 of 1000 bytes", then nothing.
      const c = await open(node.url, sliverHead(blob.blobIdString, pair, 1000) + '01234');
      expect(await c.answer).toMatch(/^HTTP\/1\.1 408[\s\S]*REQUEST_TIMEOUT/);
      await c.closed;
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(350);
      expect(elapsed).toBeLessThan(5000);
    });
  });

  it('one peer holds at most maxConnectionsPerPeer connections; more are answered 429 and closed', async () => {
    await withNode({ maxConnectionsPerPeer: 8 }, async (node) => {
      const idle = await Promise.all(Array.from({ length: 8 }, () => open(node.url, '')));
      await new Promise((r) => setTimeout(r, 100));
      const ninth = await open(node.url, 'GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n');
      expect(await ninth.answer).toMatch(/^HTTP\/1\.1 429[\s\S]*retry-after: 1[\s\S]*RESOURCE_EXHAUSTED/i);
      await ninth.closed;
      for (const c of idle) c.sock.destroy();
      await Promise.all(idle.map((c) => c.closed));
      await new Promise((r) => setTimeout(r, 100));
      expect((await call(`${node.url}/v1/health`)).status).toBe(200);
    });
  });

  it('a ?pending=true sliver for a blob without metadata is refused before its body', async () => {
    await withNode({}, async (node) => {
      const blob = encodeBlob(randomBytes(100, 34), { nShards: n });
      const pair = pairOf(blob.blobId, 0, n);
      // No body byte is sent: the answer must come from the head alone.
      const c = await open(node.url, sliverHead(blob.blobIdString, pair, 100_000, '?pending=true'));
      expect(await c.answer).toMatch(/^HTTP\/1\.1 400[\s\S]*METADATA_NOT_FOUND/);
      c.sock.destroy();
      // With its metadata buffered first (the Walrus upload order), the pending sliver is accepted.
      expect((await put(`${node.url}/v1/blobs/${blob.blobIdString}/metadata?pending=true`, copy(blob.metadata.toBcs()))).status).toBe(202);
      expect(
        (
          await put(
            `${node.url}/v1/blobs/${blob.blobIdString}/slivers/${pair}/primary?pending=true`,
            copy(blob.pairs[pair].primary.toBcs()),
          )
        ).status,
      ).toBe(202);
    });
  });
});
