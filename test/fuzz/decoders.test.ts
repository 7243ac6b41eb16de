/**
 * Property-based fuzzing (fast-check) of every parser that takes bytes from the network or a disk:
 * SliverData, BlobMetadata(WithId), Merkle proofs, recovery symbols, inconsistency proofs, protocol
 * messages and storage confirmations, certificates (bitmap + aggregate signature) and signed chain
 * transactions. The contract: a parser returns a value or throws a TuskError (a clear, typed
 * rejection) — never a RangeError, TypeError or any other crash — and valid encodings round-trip.
 * Inputs are arbitrary bytes and mutations (bit flips, truncations, extensions, splices) of valid
 * encodings, which reach far deeper than random bytes. Runs per property: 300 by default,
 * 100,000 under TUSK_SLOW=1 (`npm run test:slow`).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { TuskError } from '../../src/errors.ts';
import { encodeBlob } from '../../src/codec/encode.ts';
import { EncodingConfig } from '../../src/codec/config.ts';
import { SliverData } from '../../src/codec/sliver.ts';
import { BlobMetadata, BlobMetadataWithId } from '../../src/codec/metadata.ts';
import { merkleProofFromBcs, merkleProofToBcs } from '../../src/codec/merkle.ts';
import {
  inconsistencyProofFromBcs,
  inconsistencyProofToBcs,
  recoverySymbolsFrom,
  recoverySymbolsFromBcs,
  recoverySymbolsToBcs,
} from '../../src/codec/recovery.ts';
import { parseProtocolMessage, parseStorageConfirmation, storageConfirmationMessage } from '../../src/protocol/messages.ts';
import { signersBitmap, verifyCertificate, type Committee } from '../../src/protocol/certificate.ts';
import { generateBlsKeyPair, blsSign } from '../../src/crypto/bls.ts';
import { signTransaction, verifyTransaction } from '../../src/chain/transaction.ts';
import { randomBytes } from '../helpers/blobs.ts';

const RUNS = Number(process.env.TUSK_FUZZ_RUNS) || (process.env.TUSK_SLOW ? 100_000 : 300);

/** Runs `parse`; a returned value or a TuskError passes, anything else fails the property. */
function parsesOrRejects(parse: () => unknown): boolean {
  try {
    parse();
    return true;
  } catch (e) {
    if (e instanceof TuskError) return true;
    throw new Error(`crashed instead of a TuskError: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
  }
}

/** Arbitrary bytes, and mutations of `valid`: flips, truncation, extension, splices of random bytes. */
function hostile(valid: Uint8Array): fc.Arbitrary<Uint8Array> {
  const flips = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 8 }).map((fs) => {
    const out = valid.slice();
    for (const [pos, bit] of fs) if (out.length > 0) out[pos % out.length] ^= 1 << bit;
    return out;
  });
  const truncated = fc.nat({ max: Math.max(0, valid.length - 1) }).map((n) => valid.slice(0, n));
  const extended = fc.uint8Array({ minLength: 1, maxLength: 64 }).map((tail) => Uint8Array.from([...valid, ...tail]));
  const spliced = fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([pos, bytes]) => {
    const out = valid.slice();
    if (out.length > 0) out.set(bytes.subarray(0, Math.max(0, out.length - (pos % out.length))), pos % out.length);
    return out;
  });
  return fc.oneof(fc.uint8Array({ maxLength: 512 }), flips, truncated, extended, spliced);
}

const n = 10;
const cfg = new EncodingConfig(n);
const blob = encodeBlob(randomBytes(3000, 5), { nShards: n });

describe('BCS decoders never crash on hostile bytes', () => {
  it('SliverData (both axes), and valid slivers round-trip', () => {
    for (const axis of ['primary', 'secondary'] as const) {
      const valid = new Uint8Array(blob.pairs[3][axis].toBcs());
      expect(SliverData.fromBcs(axis, valid).toBcs()).toEqual(valid);
      fc.assert(
        fc.property(hostile(valid), (b) => parsesOrRejects(() => SliverData.fromBcs(axis, b))),
        { numRuns: RUNS },
      );
    }
  });

  it('BlobMetadata and BlobMetadataWithId', () => {
    const meta = new Uint8Array(blob.metadata.toBcs());
    const withId = new Uint8Array(blob.metadataWithId.toBcs());
    expect(BlobMetadataWithId.fromBcs(withId).toBcs()).toEqual(withId);
    fc.assert(
      fc.property(hostile(meta), (b) => parsesOrRejects(() => BlobMetadata.fromBcs(b))),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(hostile(withId), (b) => parsesOrRejects(() => BlobMetadataWithId.fromBcs(b))),
      { numRuns: RUNS },
    );
  });

  it('Merkle proofs, recovery symbols and inconsistency proofs', () => {
    const symbols = recoverySymbolsFrom(cfg, blob.pairs[2].primary, [0, 1, 4]);
    const symbolsBcs = recoverySymbolsToBcs(symbols);
    expect(recoverySymbolsToBcs(recoverySymbolsFromBcs(symbolsBcs))).toEqual(symbolsBcs);
    const proofBcs = merkleProofToBcs(symbols[0].proof);
    expect(merkleProofFromBcs(proofBcs).next).toBe(proofBcs.length);
    const inconsistency = inconsistencyProofToBcs({
      axis: 'primary',
      targetIndex: 1,
      symbols: symbols.map((s) => ({ sourceIndex: s.sourceIndex, data: s.data, proof: s.proof })),
    });
    expect(inconsistencyProofToBcs(inconsistencyProofFromBcs('primary', inconsistency))).toEqual(inconsistency);
    fc.assert(
      fc.property(hostile(proofBcs), (b) => parsesOrRejects(() => merkleProofFromBcs(b))),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(hostile(symbolsBcs), (b) => parsesOrRejects(() => recoverySymbolsFromBcs(b))),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(hostile(inconsistency), (b) => parsesOrRejects(() => inconsistencyProofFromBcs('secondary', b))),
      { numRuns: RUNS },
    );
  });

  it('protocol messages and storage confirmations', () => {
    const objectId = new Uint8Array(32).fill(7);
    for (const persistence of [{ kind: 'permanent' } as const, { kind: 'deletable', objectId } as const]) {
      const valid = storageConfirmationMessage(12, blob.blobId, persistence);
      expect(parseStorageConfirmation(valid).epoch).toBe(12);
      fc.assert(
        fc.property(
          hostile(valid),
          (b) => parsesOrRejects(() => parseProtocolMessage(b)) && parsesOrRejects(() => parseStorageConfirmation(b)),
        ),
        { numRuns: RUNS },
      );
    }
  });
});

describe('certificates and signed transactions never crash on hostile input', () => {
  it('a certificate with hostile signature and bitmap bytes is refused with a CertificateError', () => {
    const keys = [generateBlsKeyPair(), generateBlsKeyPair(), generateBlsKeyPair(), generateBlsKeyPair()];
    const committee: Committee = { epoch: 3, nShards: 4, members: keys.map((k) => ({ publicKey: k.publicKey, weight: 1 })) };
    const message = storageConfirmationMessage(3, blob.blobId, { kind: 'permanent' });
    const signature = blsSign(keys[0].secretKey, message);
    const bitmap = signersBitmap([0, 1, 2], 4);
    fc.assert(
      fc.property(hostile(signature), hostile(bitmap), (sig, bits) =>
        parsesOrRejects(() => verifyCertificate(committee, sig, bits, message)),
      ),
      { numRuns: Math.min(RUNS, 2000) },
    );
    // With a quorum bitmap every case reaches the BLS check: corrupted points, wrong lengths.
    let reachedBls = 0;
    fc.assert(
      fc.property(hostile(signature), (sig) => {
        try {
          verifyCertificate(committee, sig, bitmap, message);
        } catch (e) {
          if (!(e instanceof TuskError))
            throw new Error(`crashed instead of a CertificateError: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
          if (/signature/.test((e as Error).message)) reachedBls++;
        }
        return true;
      }),
      { numRuns: Math.min(RUNS, 2000) },
    );
    expect(reachedBls).toBeGreaterThan(0);
  });

  it('signed transactions: hostile bytes and signatures are ChainAbortErrors', async () => {
    const signer = Ed25519Keypair.generate();
    const tx = await signTransaction(signer, 'chain-x', 'reserveSpace', { size: 100n, epochsAhead: 1 });
    expect((await verifyTransaction(tx, 'chain-x')).call).toBe('reserveSpace');
    await fc.assert(
      fc.asyncProperty(
        hostile(tx.bytes),
        fc.oneof(fc.constant(tx.signature), fc.string({ maxLength: 200 }), fc.base64String({ maxLength: 200 })),
        async (bytes, signature) => {
          try {
            await verifyTransaction({ bytes, signature }, 'chain-x');
            return true;
          } catch (e) {
            if (e instanceof TuskError) return true;
            throw new Error(`crashed instead of a TuskError: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
          }
        },
      ),
      { numRuns: Math.min(RUNS, 5000) },
    );
  });
});
