/** Recovery symbols, sliver recovery and inconsistency proofs (RS2). */
import { describe, expect, it } from 'vitest';
import { encodeBlob } from '../src/codec/encode.ts';
import { EncodingConfig } from '../src/codec/config.ts';
import {
  inconsistencyProofFromBcs,
  inconsistencyProofToBcs,
  recoverSliver,
  recoverySymbolsFrom,
  recoverySymbolsFromBcs,
  recoverySymbolsToBcs,
  verifyInconsistencyProof,
  verifyRecoverySymbol,
  type RecoverySymbol,
} from '../src/codec/recovery.ts';
import { inconsistentEncoding, pick, randomBytes, rng } from './helpers/blobs.ts';

describe('recovery symbols', () => {
  it('match the worked byte example (n = 5, 24-byte blob 01…18)', () => {
    const data = Uint8Array.from({ length: 24 }, (_, i) => i + 1);
    const blob = encodeBlob(data, { nShards: 5 });
    expect(blob.blobIdString).toBe('HfVGO3wySmNLTzElTuEZzE5m-1dJbzfxW6IZj0RxS6g');
    const cfg = new EncodingConfig(5);
    // The node for pair 0 holds secondary sliver 4 and answers for primary target 4.
    const [sym] = recoverySymbolsFrom(cfg, blob.pairs[0].secondary, [4]);
    const bcs = recoverySymbolsToBcs([sym]);
    expect(Buffer.from(bcs).toString('hex')).toBe(
      '01' +
        '00' +
        '0400' +
        '022233' +
        '0400' +
        '03' +
        '00' +
        '00' +
        '01' +
        '2a362ef5d80cf7a243e4025c696496129b4191fe6f29b13237774e658b48a164',
    );
    expect(recoverySymbolsFromBcs(bcs)).toEqual([sym]);
    expect(verifyRecoverySymbol(cfg, blob.metadata, sym, 'primary', 4)).toBe(true);
  });

  for (const n of [4, 7, 10, 100]) {
    it(`n = ${n}: recover any primary sliver from k_s symbols and any secondary sliver from k_p`, () => {
      const cfg = new EncodingConfig(n);
      const next = rng(n + 1);
      const data = randomBytes(Math.min(cfg.maxBlobSize, 77_777), n);
      const blob = encodeBlob(data, { nShards: n });
      for (const target of pick(n, Math.min(n, 4), next)) {
        // Primary target: one symbol from each of k_s secondary slivers (in random order).
        const fromSec = pick(n, cfg.secondarySymbols, next).flatMap((j) => recoverySymbolsFrom(cfg, blob.secondarySlivers[j], [target]));
        const p = recoverSliver(cfg, blob.metadata, 'primary', target, fromSec);
        expect(p.sliver?.toBcs()).toEqual(blob.primarySlivers[target].toBcs());
        const fromPri = pick(n, cfg.primarySymbols, next).flatMap((i) => recoverySymbolsFrom(cfg, blob.primarySlivers[i], [target]));
        const s = recoverSliver(cfg, blob.metadata, 'secondary', target, fromPri);
        expect(s.sliver?.toBcs()).toEqual(blob.secondarySlivers[target].toBcs());
      }
    });
  }

  it('rejects tampered symbols and proofs, and needs k distinct valid symbols', () => {
    const n = 10;
    const cfg = new EncodingConfig(n);
    const blob = encodeBlob(randomBytes(4000, 1), { nShards: n });
    const syms = blob.secondarySlivers.map((s) => recoverySymbolsFrom(cfg, s, [2])[0]);
    const flipped: RecoverySymbol = { ...syms[0], data: syms[0].data.map((b, i) => (i === 0 ? b ^ 1 : b)) };
    expect(verifyRecoverySymbol(cfg, blob.metadata, flipped, 'primary', 2)).toBe(false);
    expect(verifyRecoverySymbol(cfg, blob.metadata, syms[0], 'primary', 3)).toBe(false); // wrong target
    expect(verifyRecoverySymbol(cfg, blob.metadata, { ...syms[0], sourceIndex: 1 }, 'primary', 2)).toBe(false); // proof for another sliver
    expect(verifyRecoverySymbol(cfg, blob.metadata, { ...syms[0], data: syms[0].data.subarray(1) }, 'primary', 2)).toBe(false);
    // k_s = 7: six good symbols plus a bad one and a duplicate are not enough.
    expect(() => recoverSliver(cfg, blob.metadata, 'primary', 2, [flipped, ...syms.slice(1, 7), syms[1]])).toThrow(
      /needs 7 distinct valid symbols, got 6/,
    );
    // …but invalid extras are skipped when enough good ones follow.
    expect(recoverSliver(cfg, blob.metadata, 'primary', 2, [flipped, ...syms.slice(1)]).sliver?.toBcs()).toEqual(
      blob.primarySlivers[2].toBcs(),
    );
  });
});

describe('inconsistency proofs', () => {
  const n = 10;
  const cfg = new EncodingConfig(n);
  const blob = encodeBlob(randomBytes(6000, 9), { nShards: n });

  it('are produced when a recovered sliver does not match the metadata, and verify', () => {
    // The writer altered primary sliver 1 (byte 0 of symbol 0) and committed to it.
    const bad = inconsistentEncoding(blob, 1);
    const symbols = bad.primary.slice(0, cfg.primarySymbols).flatMap((s) => recoverySymbolsFrom(cfg, s, [0]));
    const result = recoverSliver(cfg, bad.metadata.metadata, 'secondary', 0, symbols);
    expect(result.sliver).toBeUndefined();
    const proof = result.inconsistencyProof!;
    expect(proof).toMatchObject({ axis: 'secondary', targetIndex: 0 });
    expect(proof.symbols).toHaveLength(cfg.primarySymbols);
    expect(verifyInconsistencyProof(cfg, bad.metadata.metadata, proof)).toBe(true);
    const bcs = inconsistencyProofToBcs(proof);
    expect(inconsistencyProofFromBcs('secondary', bcs)).toEqual(proof);
    expect(verifyInconsistencyProof(cfg, bad.metadata.metadata, inconsistencyProofFromBcs('secondary', bcs))).toBe(true);
  });

  it('do not verify for a consistent blob or when malformed', () => {
    const symbols = blob.primarySlivers.slice(0, cfg.primarySymbols).flatMap((s) => recoverySymbolsFrom(cfg, s, [0]));
    const honest = {
      axis: 'secondary' as const,
      targetIndex: 0,
      symbols: symbols.map((s) => ({ sourceIndex: s.sourceIndex, data: s.data, proof: s.proof })),
    };
    expect(verifyInconsistencyProof(cfg, blob.metadata, honest)).toBe(false);
    const bad = inconsistentEncoding(blob, 1);
    const badSyms = bad.primary.slice(0, cfg.primarySymbols).flatMap((s) => recoverySymbolsFrom(cfg, s, [0]));
    const proof = recoverSliver(cfg, bad.metadata.metadata, 'secondary', 0, badSyms).inconsistencyProof!;
    expect(verifyInconsistencyProof(cfg, bad.metadata.metadata, { ...proof, symbols: proof.symbols.slice(1) })).toBe(false); // too few
    expect(
      verifyInconsistencyProof(cfg, bad.metadata.metadata, { ...proof, symbols: [proof.symbols[0], ...proof.symbols.slice(0, -1)] }),
    ).toBe(false); // duplicate
    expect(verifyInconsistencyProof(cfg, bad.metadata.metadata, { ...proof, targetIndex: 1 })).toBe(false); // proofs are for leaf 0
  });
});
