/**
 * The crash test of issue #6: a real `tusk chain serve` process is killed with SIGKILL while a
 * stream of signed calls (WAL transfers between test accounts, blob registrations) is in flight,
 * then restarted on the same data directory. Afterwards:
 *  - every acknowledged call is there: re-submitting it returns the stored result (and changes
 *    nothing), its blob exists, its BlobRegistered event is in the log exactly once;
 *  - no call is half-applied: every balance equals what applying each call exactly once gives,
 *    and money is conserved (balances + fees = faucet grants);
 *  - a call whose answer was lost either returns its stored result or executes now, once;
 *  - an event cursor taken before the crash resumes with no event lost or repeated.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { RemoteChain } from '../../src/chain/remote/client.ts';
import { signTransaction, transactionDigest, type SignedTransaction } from '../../src/chain/transaction.ts';
import { FROST_PER_WAL, type BlobObject, type ChainEventEnvelope, type EventCursor, type TxEffects } from '../../src/chain/types.ts';
import { ChainUnavailableError } from '../../src/errors.ts';
import { blobArgs, spawnChainServer, tempDir, type ServerProcess } from './remote-helpers.ts';

const N_SHARDS = 10;
const BLOB_SIZE = 1000;
const GRANT = 1000n * FROST_PER_WAL;
const CONCURRENCY = 4;
const MAX_CALLS = 400;

type Op = { kind: 'transfer'; from: number; to: number; amount: bigint } | { kind: 'register'; from: number };
interface Call {
  readonly op: Op;
  readonly tx: SignedTransaction;
  state: 'inFlight' | 'acked' | 'lost';
  result?: TxEffects & { blob?: BlobObject };
}

const dir = tempDir('tusk-crash-');
let server: ServerProcess | undefined;

afterAll(() => {
  server?.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Every event after `cursor`, paging until the log is exhausted. */
async function drain(
  chain: RemoteChain,
  cursor: EventCursor | null,
): Promise<{ events: ChainEventEnvelope[]; cursor: EventCursor | null }> {
  const events: ChainEventEnvelope[] = [];
  for (;;) {
    const page = await chain.events({ cursor, limit: 100 });
    events.push(...page.events);
    if (page.events.length === 0) return { events, cursor };
    cursor = page.nextCursor;
  }
}

const idOf = (e: ChainEventEnvelope) => `${e.id.txDigest}#${e.id.eventSeq}`;

describe('chain server crash (kill -9 mid-stream)', () => {
  it('loses no acknowledged call, applies none by half, and resumes event cursors exactly', async () => {
    const t0 = Date.now();
    server = await spawnChainServer(dir, ['--n-shards', String(N_SHARDS)]);
    const chainId = server.chainId;
    // No retries: the test itself decides what to re-send, to observe the raw outcome of each call.
    let remote = new RemoteChain({ url: server.url, submitRetries: 0, timeoutMs: 5000 });

    const accounts = Array.from({ length: 4 }, () => Ed25519Keypair.generate());
    for (const a of accounts) await remote.requestFaucet(a.toSuiAddress(), GRANT);

    // Calibrate the price of one registration (every stream blob has the same size, so the same cost).
    const b0 = await remote.balance(accounts[0].toSuiAddress());
    await remote.registerBlob(accounts[0], { ...blobArgs(N_SHARDS, BLOB_SIZE) });
    const registerCost = b0 - (await remote.balance(accounts[0].toSuiAddress()));
    expect(registerCost).toBeGreaterThan(0n);

    const before = await drain(remote, null);
    const killAfter = 30 + Math.floor(Math.random() * 90); // acknowledged calls before the kill
    const cursorAt = Math.floor(killAfter / 2); // when the mid-stream cursor is taken
    let midCursor: { cursor: EventCursor | null; seen: ChainEventEnvelope[] } | undefined;

    const calls: Call[] = [];
    let acked = 0;
    let killed = false;
    const worker = async () => {
      while (!killed && calls.length < MAX_CALLS) {
        const from = Math.floor(Math.random() * accounts.length);
        // Every 10th call is a registration whose answer the test throws away: one that completed
        // before the kill is "executed, answer lost", the case a client's retry must survive.
        const forget = calls.length % 10 === 9;
        const op: Op =
          forget || Math.random() < 0.3
            ? { kind: 'register', from }
            : {
                kind: 'transfer',
                from,
                to: (from + 1 + Math.floor(Math.random() * (accounts.length - 1))) % accounts.length,
                amount: BigInt(1 + Math.floor(Math.random() * 1_000_000)),
              };
        const args: Record<string, unknown> =
          op.kind === 'transfer' ? { recipient: accounts[op.to].toSuiAddress(), amount: op.amount } : { ...blobArgs(N_SHARDS, BLOB_SIZE) };
        const tx = await signTransaction(accounts[from], chainId, op.kind === 'transfer' ? 'transferWal' : 'registerBlob', args);
        const call: Call = { op, tx, state: 'inFlight' };
        calls.push(call);
        let n: number;
        try {
          const result = (await remote.submit(tx)) as Call['result'];
          if (forget) {
            call.state = 'lost';
            continue;
          }
          call.result = result;
          call.state = 'acked';
          n = ++acked;
        } catch (e) {
          // Only the crash may make a call fail: the stream never overdraws and every blob is valid.
          if (!(e instanceof ChainUnavailableError) || !killed) throw e;
          call.state = 'lost';
          continue;
        }
        if (n === cursorAt && !midCursor) {
          const mid = await drain(remote, before.cursor);
          midCursor = { cursor: mid.cursor, seen: mid.events };
        }
        // Kill only once the mid-stream cursor is taken (its drain must not race the kill).
        if (n >= killAfter && midCursor && !killed) {
          killed = true;
          // The other workers' calls are in flight right now.
          server!.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const exit = await server.exited;
    expect(exit.signal).toBe('SIGKILL');
    expect(midCursor).toBeDefined();
    const lost = calls.filter((c) => c.state === 'lost');
    const ackedCalls = calls.filter((c) => c.state === 'acked');
    expect(calls.every((c) => c.state !== 'inFlight')).toBe(true);
    expect(ackedCalls.length).toBeGreaterThanOrEqual(killAfter);
    expect(lost.length).toBeGreaterThanOrEqual(1);

    // --- restart on the same data directory --------------------------------------------------
    server = await spawnChainServer(dir);
    expect(server.chainId).toBe(chainId);
    remote = new RemoteChain({ url: server.url, submitRetries: 0, timeoutMs: 5000 });
    const balancesNow = async () => Promise.all(accounts.map((a) => remote.balance(a.toSuiAddress())));

    // The event cursor taken mid-stream resumes: what it returns now continues exactly what was seen.
    const full = await drain(remote, null);
    const ids = full.events.map(idOf);
    expect(new Set(ids).size).toBe(ids.length);
    const resumed = await drain(remote, midCursor!.cursor);
    const seenBefore = [...before.events, ...midCursor!.seen].map(idOf);
    expect(ids.slice(0, seenBefore.length)).toEqual(seenBefore);
    expect(resumed.events.map(idOf)).toEqual(ids.slice(seenBefore.length));

    // Every acknowledged call is there: its re-submission returns the stored result and changes nothing.
    const beforeResubmit = await balancesNow();
    for (const c of ackedCalls) {
      expect(await remote.submit(c.tx)).toEqual(c.result);
      if (c.op.kind === 'register') {
        const blob = c.result!.blob!;
        expect(await remote.getBlob(blob.id)).not.toBeNull();
        expect(full.events.filter((e) => e.event.type === 'BlobRegistered' && e.event.objectId === blob.id)).toHaveLength(1);
      }
    }
    expect(await balancesNow()).toEqual(beforeResubmit);

    // Calls in flight at the kill: each either comes back with its stored result or executes now, once.
    // A registration that committed before the kill left its event in the log: its re-submission
    // must return exactly those events (the stored result), not new ones.
    let committedBeforeKill = 0;
    const lostResults: (TxEffects & { blob?: BlobObject })[] = [];
    for (const c of lost) {
      const digest = transactionDigest(c.tx.bytes);
      const logged = full.events.filter((e) => e.id.txDigest === digest);
      const r = (await remote.submit(c.tx)) as TxEffects & { blob?: BlobObject };
      expect(r.digest).toBe(digest);
      if (c.op.kind === 'register') {
        if (logged.length > 0) {
          committedBeforeKill++;
          expect(r.events).toEqual(logged);
        } else {
          expect(r.events.map((e) => e.event.type)).toEqual(['BlobRegistered']);
        }
      }
      lostResults.push(r);
    }
    for (let i = 0; i < lost.length; i++) expect(await remote.submit(lost[i].tx)).toEqual(lostResults[i]);
    // The forgotten registrations guarantee both branches above ran.
    expect(committedBeforeKill).toBeGreaterThanOrEqual(1);

    console.log(
      `crash test: kill after ${killAfter} acks; ${ackedCalls.length} acknowledged, ${lost.length} in flight at the kill ` +
        `(${lost.filter((c) => c.op.kind === 'register').length} registrations, ${committedBeforeKill} of them committed before the kill)`,
    );

    // No call applied twice or by half: balances are exactly "every call once".
    const expected = accounts.map(() => GRANT);
    expected[0] -= registerCost;
    for (const c of [...ackedCalls, ...lost]) {
      if (c.op.kind === 'transfer') {
        expected[c.op.from] -= c.op.amount;
        expected[c.op.to] += c.op.amount;
      } else {
        expected[c.op.from] -= registerCost;
      }
    }
    const final = await balancesNow();
    expect(final).toEqual(expected);
    const registrations = 1 + calls.filter((c) => c.op.kind === 'register').length;
    expect(final.reduce((a, b) => a + b, 0n) + BigInt(registrations) * registerCost).toBe(GRANT * BigInt(accounts.length));

    // And the event log has one BlobRegistered per registration, none repeated, the old cursor still exact.
    const after = await drain(remote, null);
    const registered = after.events.filter((e) => e.event.type === 'BlobRegistered');
    expect(registered).toHaveLength(registrations);
    expect(new Set(registered.map((e) => (e.event as { objectId: string }).objectId)).size).toBe(registrations);
    expect((await drain(remote, midCursor!.cursor)).events.map(idOf)).toEqual(after.events.map(idOf).slice(seenBefore.length));

    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
    server = undefined;
    expect(Date.now() - t0).toBeLessThan(30_000);
  }, 60_000);
});
