/**
 * Storage challenge simulation (issue #16): the real chain code (in-memory-sized LocalChain on a
 * temp file) with simulated storage nodes that answer from a model of what they hold — real RS2
 * slivers of real blobs, with real Merkle proofs — minus whatever a cheating node deleted.
 *
 * Bars (docs/challenges.md): a node that deleted 10 % of its slivers is caught in its first round
 * with P ≥ 1 − 10⁻⁵ (0.9^128 ≈ 1.4·10⁻⁶ at the default 128 samples) and jailed/slashed within 2
 * epochs in ≥ 99.9 % of 1000 seeded runs; honest nodes are never penalised; the supply audit stays
 * exact. 1000 full-chain runs would take minutes, so the 1000 seeded runs use the exact sampling
 * and decision code (drawChallengeItems + shouldJail, as the chain runs them) and a smaller number
 * of runs go through the whole chain.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blake2b } from '@noble/hashes/blake2.js';
import type { LocalChain } from '../../src/chain/local/index.ts';
import {
  CHALLENGE_DEFAULTS,
  drawChallengeItems,
  shouldJail,
  type ChallengeAnswer,
  type ChallengeBlob,
  type ChallengeItemView,
} from '../../src/chain/local/challenges.ts';
import { encodedBlobLength } from '../../src/chain/local/blobs.ts';
import { EncodingConfig } from '../../src/codec/config.ts';
import { encodeBlob, type EncodedBlob } from '../../src/codec/encode.ts';
import { merkleProof, type MerkleNode } from '../../src/codec/merkle.ts';
import { recoverySymbolsFrom } from '../../src/codec/recovery.ts';
import { leafHash } from '../../src/hash/blake2b.ts';
import { blobIdRotation } from '../../src/codec/blob-id.ts';
import { pairForShard } from '../../src/protocol/placement.ts';
import { storageConfirmationMessage } from '../../src/protocol/messages.ts';
import { expectSupplyConserved, type TestNode } from './local-helpers.ts';
import { answers, cfg, chainWithBlobs, deleteTenPercent, encoded, hex, N, prng, seedOf, syncAll } from './challenge-helpers.ts';

describe('challenge sampling and decision (exact chain code, 1000 seeded runs)', () => {
  it('a node missing 10 % of its slivers is caught in its first round and jailed within 2 epochs', () => {
    const s = CHALLENGE_DEFAULTS.samples;
    const pMissRound = 0.9 ** s;
    expect(1 - pMissRound).toBeGreaterThanOrEqual(1 - 1e-5); // 1 − 1.4·10⁻⁶ at s = 128
    const blobs: ChallengeBlob[] = encoded.map((e) => ({ blobId: e.blobId, rootHash: e.rootHash, size: e.unencodedLength }));
    const shards = [0, 4, 7];
    const nodeId = '0x' + 'ab'.repeat(32);
    const RUNS = 1000;
    let caughtFirst = 0;
    let jailedBy2 = 0;
    let hits = 0;
    let items = 0;
    for (let run = 0; run < RUNS; run++) {
      const deleted = deleteTenPercent(shards, prng(run + 1));
      const failed: boolean[] = [];
      for (let epoch = 0; epoch < 2; epoch++) {
        const drawn = drawChallengeItems(cfg, seedOf(`run${run}`, epoch), nodeId, shards, blobs, s);
        const missing = drawn.filter((it) => deleted.has(`${hex(blobs[it.blob].blobId)}:${it.pair}`)).length;
        hits += missing;
        items += drawn.length;
        failed.push(missing > 0);
      }
      if (failed[0]) caughtFirst++;
      if (
        shouldJail(
          failed.map((f) => !f),
          CHALLENGE_DEFAULTS,
        )
      )
        jailedBy2++;
    }
    console.log(
      `challenge sim: s=${s}, P(caught in round 1) computed = 1 − ${pMissRound.toExponential(2)}; ` +
        `empirical ${caughtFirst}/${RUNS} caught in round 1, ${jailedBy2}/${RUNS} jailed within 2 epochs; ` +
        `item hit rate ${(hits / items).toFixed(4)} over ${items} items (expected 0.1)`,
    );
    expect(Math.abs(hits / items - 0.1)).toBeLessThan(0.005); // byte-weighted sampling: hit rate = deleted fraction
    expect(caughtFirst).toBeGreaterThanOrEqual(RUNS - 1);
    expect(jailedBy2 / RUNS).toBeGreaterThanOrEqual(0.999);
  });

  it('an honest node never fails: every drawn item is a held source symbol', () => {
    const blobs: ChallengeBlob[] = encoded.map((e) => ({ blobId: e.blobId, rootHash: e.rootHash, size: e.unencodedLength }));
    for (let run = 0; run < 100; run++) {
      for (const it of drawChallengeItems(cfg, seedOf('honest', run), '0x' + '01'.repeat(32), [2, 9], blobs, 128)) {
        const pairs = [2, 9].map((sh) => pairForShard(sh, blobIdRotation(blobs[it.blob].blobId, N), N));
        expect(pairs).toContain(it.pair);
        expect(it.position).toBeLessThan(it.axis === 'primary' ? cfg.secondarySymbols : cfg.primarySymbols);
      }
    }
  });
});

describe('challenges over the real chain', () => {
  let chain: LocalChain | undefined;
  afterAll(async () => {
    await chain?.close();
  });

  it('a cheater is withheld, then jailed, slashed and left out of the next committee; honest nodes pass; supply exact', async () => {
    const RUNS = 3;
    for (let run = 0; run < RUNS; run++) {
      const setup = await chainWithBlobs();
      chain = setup.chain;
      const committee = await chain.committee();
      const cheater = committee.members[0];
      const deleted = deleteTenPercent(cheater.shards, prng(run + 77));
      let caughtBy: number | undefined;
      for (let round = 0; round < 2; round++) {
        const start = await chain.startChallengeRound(seedOf(`chain${run}`, round));
        expect(start.nodes).toBe(committee.members.length);
        for (const m of committee.members) {
          const items = await chain.challengeItems(m.nodeId);
          expect(items).toHaveLength(CHALLENGE_DEFAULTS.samples);
          await chain.answerChallenge(m.nodeId, answers(items, m.nodeId === cheater.nodeId ? deleted : new Set()));
        }
        const { outcomes } = await chain.finishChallengeRound();
        for (const o of outcomes) {
          if (o.nodeId !== cheater.nodeId) expect(o).toMatchObject({ passed: true, jailed: false, slashed: 0n });
        }
        const mine = outcomes.find((o) => o.nodeId === cheater.nodeId)!;
        expect(mine.passed).toBe(false);
        if (mine.jailed) {
          caughtBy = round;
          expect(mine.slashed).toBeGreaterThan(0n);
        }
        const fx = await chain.advanceEpoch();
        await syncAll(chain, setup.nodes);
        const paid = fx.events.map((e) => e.event).filter((e) => e.type === 'RewardsDistributed') as { nodeId: string; amount: bigint }[];
        expect(paid.find((p) => p.nodeId === cheater.nodeId)!.amount).toBe(0n); // withheld in full
        for (const p of paid) if (p.nodeId !== cheater.nodeId) expect(p.amount).toBeGreaterThan(0n);
        await expectSupplyConserved(chain);
      }
      expect(caughtBy).toBe(1);
      const next = await chain.committee();
      expect(next.members.map((m) => m.nodeId)).not.toContain(cheater.nodeId);
      const status = await chain.challengeStatus();
      expect(status.find((s) => s.nodeId === cheater.nodeId)).toMatchObject({ roundsPassed: 0, roundsFailed: 2, jailed: true });
      expect((await chain.supplyAudit()).slashed).toBeGreaterThan(0n);
      await chain.close();
      chain = undefined;
    }
  }, 60_000);

  it('forged answers (a flipped symbol, a swapped pair leaf) fail; an open round is finished by advanceEpoch', async () => {
    const setup = await chainWithBlobs();
    chain = setup.chain;
    await chain.startChallengeRound(seedOf('forge', 0));
    const m = (await chain.committee()).members[0];
    const items = await chain.challengeItems(m.nodeId);
    const good = answers(items, new Set());
    const forged = good.map((a, i) => {
      if (i === 0) return { ...a, symbol: a.symbol!.map((b) => b ^ 1) };
      if (i === 1) return { ...a, primaryHash: a.secondaryHash };
      return a;
    });
    expect((await chain.answerChallenge(m.nodeId, forged)).verified).toBe(items.length - 2);
    // Left open, the round is finished by the epoch change: the forger fails, the silent nodes too.
    const fx = await chain.advanceEpoch();
    const paid = fx.events.map((e) => e.event).filter((e) => e.type === 'RewardsDistributed') as { nodeId: string; amount: bigint }[];
    expect(paid.every((p) => p.amount === 0n)).toBe(true);
    const status = await chain.challengeStatus();
    expect(status.find((s) => s.nodeId === m.nodeId)).toMatchObject({ roundsPassed: 0, roundsFailed: 1, jailed: false });
    await expectSupplyConserved(chain);
    await chain.close();
    chain = undefined;
  });

  it('honest nodes over many epochs: zero penalties, supply exact', async () => {
    // 1000 epochs over the whole chain take ~100 s on a busy 2-core machine: TUSK_SLOW=1 runs them.
    const EPOCHS = Number(process.env.TUSK_CHALLENGE_EPOCHS ?? (process.env.TUSK_SLOW === '1' ? 1000 : 100));
    const setup = await chainWithBlobs();
    chain = setup.chain;
    const t0 = Date.now();
    const rounds = new Map<string, number>();
    for (let e = 0; e < EPOCHS; e++) {
      await chain.startChallengeRound();
      // The committee can shift (withheld-free rewards still change stakes): answer as it is now.
      for (const m of (await chain.committee()).members)
        await chain.answerChallenge(m.nodeId, answers(await chain.challengeItems(m.nodeId), new Set()));
      const { outcomes } = await chain.finishChallengeRound();
      expect(outcomes.every((o) => o.passed && !o.jailed && o.slashed === 0n)).toBe(true);
      for (const o of outcomes) rounds.set(o.nodeId, (rounds.get(o.nodeId) ?? 0) + 1);
      await chain.advanceEpoch();
      await syncAll(chain, setup.nodes);
    }
    console.log(`challenge sim: ${EPOCHS} honest epochs over the chain in ${Date.now() - t0} ms`);
    const status = await chain.challengeStatus();
    // A node without shards in an epoch has a void round (neither passed nor failed).
    for (const s of status)
      expect(s).toMatchObject({ roundsPassed: rounds.get(s.nodeId) ?? 0, roundsFailed: 0, jailed: false, slashed: 0n });
    expect([...rounds.values()].reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(EPOCHS * 3);
    const a = await chain.supplyAudit();
    expect(a.slashed).toBe(0n);
    await expectSupplyConserved(chain);
    await chain.close();
    chain = undefined;
  }, 600_000);
});
