/**
 * The chain server's storage-challenge round clock (src/chain/remote/challenge-clock.ts): the
 * schedule formula, the answer windows scaled to the epoch, and the clock itself on a real
 * LocalChain served over HTTP with 5-second epochs: four rounds at T·(r+1)/5, one per slot, each
 * closed once its proof window is over (so a silent node shows as missed), nothing started by a
 * server restarted late in the epoch except the current slot's round.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LocalChain } from '../../src/chain/local/index.ts';
import { startChainServer, type ChainServer } from '../../src/chain/remote/server.ts';
import { roundStartMs, scaledChallengeParams } from '../../src/chain/remote/challenge-clock.ts';
import { setupCommittee } from './local-helpers.ts';

describe('schedule', () => {
  it('round r starts at epochStart + T(r+1)/(R+1)', () => {
    expect([0, 1, 2, 3].map((r) => roundStartMs(1000, 30_000, 4, r))).toEqual([7000, 13_000, 19_000, 25_000]);
  });

  it('answer windows scale with the epoch duration and keep the defaults for 1-hour epochs', () => {
    expect(scaledChallengeParams(3_600_000)).toEqual({ commitWindowMs: 20_000, proofWindowMs: 300_000 });
    expect(scaledChallengeParams(30_000)).toEqual({ commitWindowMs: 3000, proofWindowMs: 6000 });
    expect(scaledChallengeParams(5000)).toEqual({ commitWindowMs: 1000, proofWindowMs: 1000 });
  });
});

describe('clock', () => {
  let server: ChainServer | undefined;
  let chain: LocalChain | undefined;
  afterEach(async () => {
    await server?.close();
    await chain?.close();
  });

  it('starts four rounds an epoch on schedule and closes each after its proof window', async () => {
    const T = 5000;
    chain = await LocalChain.open({ path: ':memory:', nShards: 10, epochDurationMs: T, challenges: scaledChallengeParams(T) });
    await setupCommittee(chain, [100n * 10n ** 9n]);
    const { epoch, epochStartMs } = await chain.systemState();
    const lines: string[] = [];
    server = await startChainServer({ chain, challengeClock: true, onLog: (l) => lines.push(l) });
    await new Promise((r) => setTimeout(r, epochStartMs + T + 700 - Date.now()));
    const rounds = await chain.challengeRounds(epoch);
    expect(rounds.map((r) => r.round)).toEqual([0, 1, 2, 3]);
    rounds.forEach((r, i) => {
      const due = roundStartMs(epochStartMs, T, 4, i);
      expect(r.startedMs).toBeGreaterThanOrEqual(due);
      expect(r.startedMs).toBeLessThan(due + 1000);
      expect(r.closed).toBe(true);
    });
    expect(lines.filter((l) => /challenge round \d+\/\d+ started/.test(l))).toHaveLength(4);
    // The clock does not advance epochs (that is the epoch clock's job), so nothing more starts.
    await new Promise((r) => setTimeout(r, 600));
    expect(await chain.challengeRounds(epoch)).toHaveLength(4);
  }, 30_000);

  it('a server started late in the epoch starts only the current slot, not the ones it missed', async () => {
    const T = 5000;
    chain = await LocalChain.open({ path: ':memory:', nShards: 10, epochDurationMs: T, challenges: scaledChallengeParams(T) });
    await setupCommittee(chain, [100n * 10n ** 9n]);
    const { epoch, epochStartMs } = await chain.systemState();
    await new Promise((r) => setTimeout(r, roundStartMs(epochStartMs, T, 4, 2) + 200 - Date.now()));
    server = await startChainServer({ chain, challengeClock: true });
    await new Promise((r) => setTimeout(r, 400));
    const rounds = await chain.challengeRounds(epoch);
    expect(rounds).toHaveLength(1);
    expect(rounds[0].startedMs).toBeGreaterThanOrEqual(roundStartMs(epochStartMs, T, 4, 2));
  }, 30_000);

  it('refuses to run on a chain without challenges', async () => {
    chain = await LocalChain.open({ path: ':memory:', nShards: 10 });
    const bare = { chainId: chain.chainId.bind(chain), submit: chain.submit.bind(chain) } as unknown as LocalChain;
    await expect(startChainServer({ chain: bare, challengeClock: true })).rejects.toThrow(
      /challengeClock needs a chain with storage challenges/,
    );
  });
});
