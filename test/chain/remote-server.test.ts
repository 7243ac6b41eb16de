/**
 * RemoteChain against a real chain server on 127.0.0.1 (in-process, port 0) over a real SQLite
 * LocalChain: the same behaviours as calling the chain in-process, plus the HTTP layer's own
 * contract (validation, error shape, long poll, timeouts, retries).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { LocalChain } from '../../src/chain/local/index.ts';
import { isLoopbackHost, startChainServer, type ChainServer } from '../../src/chain/remote/server.ts';
import { RemoteChain } from '../../src/chain/remote/client.ts';
import { signTransaction } from '../../src/chain/transaction.ts';
import type { TxEffects } from '../../src/chain/types.ts';
import { ChainAbortError, ChainUnavailableError, TuskInputError } from '../../src/errors.ts';
import { blobIdToString } from '../../src/codec/blob-id.ts';
import { blobArgs, tempDir } from './remote-helpers.ts';

const N_SHARDS = 10;
const dir = tempDir('tusk-remote-');
let chain: LocalChain;
let server: ChainServer;
let remote: RemoteChain;
const alice = Ed25519Keypair.generate();
const bob = Ed25519Keypair.generate();

beforeAll(async () => {
  chain = await LocalChain.open({ path: join(dir, 'chain.sqlite'), nShards: N_SHARDS });
  server = await startChainServer({ chain, port: 0 });
  remote = new RemoteChain({ url: server.url, retryBaseDelayMs: 10 });
});

afterAll(async () => {
  await server?.close();
  await chain?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Raw HTTP access for the cases RemoteChain validates before sending. */
async function raw(method: string, path: string, body?: string, contentType = 'application/json') {
  const r = await fetch(server.url + path, { method, body, headers: body === undefined ? {} : { 'content-type': contentType } });
  return { status: r.status, body: JSON.parse(await r.text()) };
}

async function abortCode(p: Promise<unknown>): Promise<ChainAbortError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ChainAbortError);
  return e as ChainAbortError;
}

describe('RemoteChain over HTTP', () => {
  it('reads the same state as the chain in-process, bigints intact', async () => {
    expect(await remote.chainId()).toBe(await chain.chainId());
    const [viaHttp, local] = [await remote.systemState(), await chain.systemState()];
    expect(viaHttp).toEqual(local);
    expect(typeof viaHttp.storagePricePerUnitSize).toBe('bigint');
    expect(await remote.committee()).toEqual(await chain.committee());
    expect(await remote.committee(0)).toEqual(await chain.committee(0));
    expect(await remote.nodes()).toEqual(await chain.nodes());
  });

  it('faucet and transferWal: balances as bigint FROST, events and digest returned', async () => {
    const big = (1n << 62n) + 7n; // far above 2^53 FROST: a float would round it
    const funded = await remote.requestFaucet(alice.toSuiAddress(), big);
    expect(funded.amount).toBe(big);
    expect(await remote.balance(alice.toSuiAddress())).toBe(big);
    const r = await remote.transferWal(alice, bob.toSuiAddress(), 3n);
    expect(typeof r.digest).toBe('string');
    expect(await remote.balance(bob.toSuiAddress())).toBe(3n);
    expect(await chain.balance(alice.toSuiAddress())).toBe(big - 3n);
  });

  it('maps an abort back with the same code and retryable flag as in-process', async () => {
    const poor = Ed25519Keypair.generate();
    const local = await abortCode(chain.transferWal(poor, alice.toSuiAddress(), 5n));
    const viaHttp = await abortCode(remote.transferWal(poor, alice.toSuiAddress(), 5n));
    expect(viaHttp.code).toBe(local.code);
    expect(viaHttp.retryable).toBe(local.retryable);
    // Same text, and the "<code>: " prefix is not doubled on the way back.
    expect(viaHttp.message).toBe(local.message);
  });

  it('a re-submitted signed transaction returns the stored result and executes once', async () => {
    const before = await remote.balance(bob.toSuiAddress());
    const tx = await signTransaction(alice, await remote.chainId(), 'transferWal', { recipient: bob.toSuiAddress(), amount: 11n });
    const first = (await remote.submit(tx)) as TxEffects;
    const again = (await remote.submit(tx)) as TxEffects;
    expect(again).toEqual(first);
    expect(await remote.balance(bob.toSuiAddress())).toBe(before + 11n);
  });

  it('registerBlob: bytes survive, object reads, blob-ID lookup, owned objects, null for unknown', async () => {
    const args = blobArgs(N_SHARDS);
    const { blob } = await remote.registerBlob(alice, args);
    expect(blob.blobId).toBeInstanceOf(Uint8Array);
    expect(blob.blobId).toEqual(args.blobId);
    expect(blob.rootHash).toEqual(args.rootHash);
    expect(await remote.getBlob(blob.id)).toEqual(await chain.getBlob(blob.id));
    expect((await remote.blobObjects(args.blobId)).map((b) => b.id)).toEqual([blob.id]);
    const owned = await remote.ownedObjects(alice.toSuiAddress());
    expect(owned).toEqual(await chain.ownedObjects(alice.toSuiAddress()));
    expect(owned.some((o) => o.kind === 'blob' && o.object.id === blob.id)).toBe(true);
    const unknown = '0x' + 'ab'.repeat(32);
    expect(await remote.getBlob(unknown)).toBeNull();
    expect(await remote.getStorage(unknown)).toBeNull();
    expect(await remote.getStakedWal(unknown)).toBeNull();
    expect(await remote.getNode(unknown)).toBeNull();
  });

  it('events: pages match in-process, cursors resume, a long poll wakes on a new event', async () => {
    const all = await remote.events({ limit: 1000 });
    expect(all).toEqual(await chain.events({ limit: 1000 }));
    expect(all.events.some((e) => e.event.type === 'BlobRegistered')).toBe(true);
    const tail = all.nextCursor;

    // Nothing new: an empty page after roughly waitMs, cursor unchanged.
    const t0 = Date.now();
    const empty = await remote.events({ cursor: tail, waitMs: 300 });
    expect(empty.events).toEqual([]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);

    // A registration during the poll ends it early with exactly that event.
    const t1 = Date.now();
    const poll = remote.events({ cursor: tail, waitMs: 10_000 });
    await new Promise((r) => setTimeout(r, 200));
    const args = blobArgs(N_SHARDS);
    const { blob } = await remote.registerBlob(alice, args);
    const page = await poll;
    expect(Date.now() - t1).toBeLessThan(5000);
    expect(page.events.length).toBeGreaterThanOrEqual(1);
    const ev = page.events[0].event;
    expect(ev.type).toBe('BlobRegistered');
    expect(ev.type === 'BlobRegistered' && ev.objectId).toBe(blob.id);
    expect(ev.type === 'BlobRegistered' && blobIdToString(ev.blobId)).toBe(blobIdToString(args.blobId));

    // The caller's abort ends a poll with the caller's reason.
    const ac = new AbortController();
    const aborted = remote.events({ cursor: page.nextCursor, waitMs: 10_000, signal: ac.signal });
    setTimeout(() => ac.abort(new Error('caller gave up')), 100);
    await expect(aborted).rejects.toThrow('caller gave up');
  });

  it('advance-epoch moves the epoch and emits the epoch-change event', async () => {
    const before = (await remote.systemState()).epoch;
    const r = await remote.advanceEpoch();
    expect(r.epoch).toBe(before + 1);
    expect((await remote.systemState()).epoch).toBe(before + 1);
    expect(r.events.some((e) => e.event.type === 'EpochChangeStart')).toBe(true);
  });
});

describe('chain server HTTP contract', () => {
  it('validates parameters with 400 and the error shape', async () => {
    const bad = await raw('GET', '/v1/balances/0xNOT');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'EBadRequest', retryable: false, kind: 'input' });
    expect((await raw('GET', '/v1/events?limit=0')).status).toBe(400);
    expect((await raw('GET', '/v1/events?limit=abc')).status).toBe(400);
    expect((await raw('GET', '/v1/committee?epoch=-1')).status).toBe(400);
    expect((await raw('GET', '/v1/blob-ids/not-a-blob-id/objects')).status).toBe(400);
    expect((await raw('GET', '/v1/nope')).status).toBe(404);
    expect((await raw('POST', '/v1/transactions', '{"bytes": 1}')).body.error.code).toBe('EBadRequest');
    expect((await raw('POST', '/v1/transactions', '{not json')).status).toBe(400);
    expect((await raw('POST', '/v1/transactions', 'x', 'text/plain')).status).toBe(415);
    expect((await raw('POST', '/v1/faucet', JSON.stringify({ recipient: alice.toSuiAddress(), amount: 5 }))).status).toBe(400);
    // Bodies are capped at 1 MiB, transactions at 32 MiB (a site update is one transaction).
    const huge = await raw('POST', '/v1/faucet', JSON.stringify({ recipient: alice.toSuiAddress(), pad: '00'.repeat(600_000) }));
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('EBodyTooLarge');
    const bigTx = await raw('POST', '/v1/transactions', JSON.stringify({ bytes: { $bytes: '00'.repeat(600_000) }, signature: 'x' }));
    expect(bigTx.status).toBe(400); // read and refused as a transaction, not for its size
    const hugeTx = await raw('POST', '/v1/transactions', JSON.stringify({ bytes: { $bytes: '00'.repeat(17 << 20) }, signature: 'x' }));
    expect(hugeTx.status).toBe(413);
  });

  it('a forged signature is a chain abort (400) with the Move-style code', async () => {
    const tx = await signTransaction(alice, await remote.chainId(), 'transferWal', { recipient: bob.toSuiAddress(), amount: 1n });
    const other = await signTransaction(bob, await remote.chainId(), 'transferWal', { recipient: bob.toSuiAddress(), amount: 1n });
    const e = await abortCode(remote.submit({ bytes: tx.bytes, signature: other.signature }));
    expect(e.code).toBe('EInvalidSignature');
    const r = await raw(
      'POST',
      '/v1/transactions',
      JSON.stringify({ bytes: { $bytes: Buffer.from(tx.bytes).toString('hex') }, signature: other.signature }),
    );
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'EInvalidSignature', kind: 'abort' });
  });

  it('RemoteChain checks IDs before sending', async () => {
    await expect(remote.balance('0x12')).rejects.toBeInstanceOf(TuskInputError);
    await expect(remote.getBlob('../../etc')).rejects.toBeInstanceOf(TuskInputError);
    expect(() => new RemoteChain({ url: 'ftp://x' })).toThrow(TuskInputError);
  });
});

describe('RemoteChain failures', () => {
  it('connection refused is a retryable ChainUnavailableError', async () => {
    const closed = await startChainServer({ chain, port: 0 });
    const url = closed.url;
    await closed.close();
    const r = new RemoteChain({ url, submitRetries: 0 });
    const e = await r.systemState().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ChainUnavailableError);
    expect((e as ChainUnavailableError).retryable).toBe(true);
  });

  it('a server that never answers times out as ChainUnavailableError', async () => {
    const sockets: import('node:net').Socket[] = [];
    const silent: Server = createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const r = new RemoteChain({ url: `http://127.0.0.1:${port}`, timeoutMs: 200 });
      const t0 = Date.now();
      await expect(r.balance(alice.toSuiAddress())).rejects.toBeInstanceOf(ChainUnavailableError);
      expect(Date.now() - t0).toBeLessThan(3000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('submit re-sends the same transaction after a lost answer; the chain executes it once', async () => {
    let lost = 0;
    const sent: string[] = [];
    // The real request reaches the server and executes; its answer is dropped twice.
    const lossy: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (String(input).endsWith('/v1/transactions')) {
        sent.push(String(init?.body));
        if (lost < 2) {
          lost++;
          await res.text();
          throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
        }
      }
      return res;
    };
    const r = new RemoteChain({ url: server.url, fetch: lossy, retryBaseDelayMs: 10 });
    const before = await chain.balance(bob.toSuiAddress());
    const effects = await r.transferWal(alice, bob.toSuiAddress(), 1000n);
    expect(typeof effects.digest).toBe('string');
    expect(sent.length).toBe(3);
    expect(new Set(sent).size).toBe(1); // the same signed bytes every time
    expect(await chain.balance(bob.toSuiAddress())).toBe(before + 1000n);
  });

  it('5xx answers are ChainUnavailableError; submit gives up after its retries', async () => {
    let calls = 0;
    const failing: typeof fetch = async () => {
      calls++;
      return new Response(JSON.stringify({ error: { code: 'EInternal', message: 'disk on fire', retryable: false, kind: 'internal' } }), {
        status: 500,
      });
    };
    const r = new RemoteChain({ url: server.url, fetch: failing, submitRetries: 2, retryBaseDelayMs: 5 });
    await expect(r.systemState()).rejects.toThrow(/HTTP 500: disk on fire/);
    calls = 0;
    const tx = await signTransaction(alice, await chain.chainId(), 'transferWal', { recipient: bob.toSuiAddress(), amount: 1n });
    await expect(r.submit(tx)).rejects.toBeInstanceOf(ChainUnavailableError);
    expect(calls).toBe(3);
  });

  it('aborts are not retried by submit', async () => {
    let calls = 0;
    const counting: typeof fetch = (input, init) => {
      if (String(input).endsWith('/v1/transactions')) calls++;
      return fetch(input, init);
    };
    const r = new RemoteChain({ url: server.url, fetch: counting, retryBaseDelayMs: 5 });
    await abortCode(r.transferWal(Ed25519Keypair.generate(), bob.toSuiAddress(), 1n));
    expect(calls).toBe(1);
  });
});

describe('server options and shutdown', () => {
  it('serves the dev routes by default only on a loopback host', async () => {
    expect(server.devRoutes).toBe(true); // the shared server: 127.0.0.1, no devRoutes option
    for (const h of ['127.0.0.1', '127.8.9.10', 'localhost', 'LOCALHOST', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) {
      expect(isLoopbackHost(h), h).toBe(true);
    }
    for (const h of [
      '0.0.0.0',
      '::',
      '[::]',
      '10.1.2.3',
      '192.168.0.1',
      '::ffff:10.0.0.1',
      'example.com',
      'localhost.example.com',
      '128.0.0.1',
      '',
    ]) {
      expect(isLoopbackHost(h), h).toBe(false);
    }
    await expect(startChainServer({ chain, port: 0, devRoutes: 'yes' as unknown as boolean })).rejects.toThrow(TuskInputError);
  });

  it('a rejected transaction keeps its abort over HTTP after the state changed', async () => {
    const poor = Ed25519Keypair.generate();
    const tx = await signTransaction(poor, await remote.chainId(), 'transferWal', { recipient: bob.toSuiAddress(), amount: 500n });
    const first = await remote.submit(tx).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(ChainAbortError);
    expect((first as ChainAbortError).code).toBe('EInsufficientFunds');
    const before = await remote.balance(bob.toSuiAddress());
    await remote.requestFaucet(poor.toSuiAddress(), 1000n);
    const again = await remote.submit(tx).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ChainAbortError);
    expect({
      code: (again as ChainAbortError).code,
      message: (again as Error).message,
      retryable: (again as ChainAbortError).retryable,
    }).toEqual({ code: 'EInsufficientFunds', message: (first as Error).message, retryable: false });
    expect(await remote.balance(poor.toSuiAddress())).toBe(1000n);
    expect(await remote.balance(bob.toSuiAddress())).toBe(before);
  });

  it('caps a long poll at maxWaitMs and hides the dev routes when asked', async () => {
    const s = await startChainServer({ chain, port: 0, maxWaitMs: 200, devRoutes: false });
    try {
      const r = new RemoteChain({ url: s.url, timeoutMs: 5000 });
      const tail = (await r.events({ limit: 1000 })).nextCursor;
      const t0 = Date.now();
      const page = await r.events({ cursor: tail, waitMs: 20_000 });
      expect(page.events).toEqual([]);
      expect(page.nextCursor).toBe(tail);
      expect(Date.now() - t0).toBeLessThan(3000);
      await expect(r.requestFaucet(alice.toSuiAddress(), 1n)).rejects.toThrow(/no route POST \/v1\/faucet/);
      await expect(r.advanceEpoch()).rejects.toBeInstanceOf(TuskInputError);
    } finally {
      await s.close();
    }
  });

  it('close() ends pending long polls at once instead of waiting them out', async () => {
    const s = await startChainServer({ chain, port: 0 });
    const r = new RemoteChain({ url: s.url });
    const tail = (await r.events({ limit: 1000 })).nextCursor;
    const poll = r.events({ cursor: tail, waitMs: 25_000 });
    await new Promise((res) => setTimeout(res, 200));
    const t0 = Date.now();
    await s.close();
    expect(Date.now() - t0).toBeLessThan(3000);
    const page = await poll;
    expect(page.events).toEqual([]);
    expect(page.nextCursor).toBe(tail);
  });
});

describe('epoch clock', () => {
  it('reports a streak of retryable refusals once and advances when the chain accepts again', async () => {
    const d = tempDir('tusk-clock-');
    const c = await LocalChain.open({ path: join(d, 'chain.sqlite'), nShards: N_SHARDS, epochDurationMs: 100 });
    // The real chain, except that its first three advances are refused as during a shard sync.
    let refusals = 3;
    const refusing = new Proxy(c, {
      get(target, prop, receiver) {
        if (prop === 'advanceEpoch') {
          return () =>
            refusals-- > 0
              ? Promise.reject(new ChainAbortError('EWrongEpochState', 'still syncing', { retryable: true }))
              : target.advanceEpoch();
        }
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const errors: unknown[] = [];
    try {
      const start = (await c.systemState()).epoch;
      const s = await startChainServer({ chain: refusing, port: 0, epochClock: true, onError: (e) => errors.push(e) });
      const deadline = Date.now() + 10_000;
      while ((await c.systemState()).epoch === start && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      await s.close();
      expect((await c.systemState()).epoch).toBeGreaterThan(start);
      expect(refusals).toBeLessThan(0);
      expect(errors).toHaveLength(1);
      expect((errors[0] as ChainAbortError).code).toBe('EWrongEpochState');
    } finally {
      await c.close();
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('advances the epoch when the persisted schedule is due, and stops on close', async () => {
    const d = tempDir('tusk-clock-');
    const c = await LocalChain.open({ path: join(d, 'chain.sqlite'), nShards: N_SHARDS, epochDurationMs: 150 });
    try {
      const start = (await c.systemState()).epoch;
      const s = await startChainServer({ chain: c, port: 0, epochClock: true });
      await new Promise((r) => setTimeout(r, 1000));
      await s.close();
      const after = (await c.systemState()).epoch;
      expect(after).toBeGreaterThanOrEqual(start + 2);
      await new Promise((r) => setTimeout(r, 400));
      expect((await c.systemState()).epoch).toBe(after);
    } finally {
      await c.close();
      rmSync(d, { recursive: true, force: true });
    }
  });
});
