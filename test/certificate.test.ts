/** Protocol messages, BLS (min_pk) and certificates — cross-checked with @mysten/walrus-wasm. */
import { describe, expect, it } from 'vitest';
import { blsAggregateSignatures, blsPublicKeyUncompressed, blsSign, blsVerify, generateBlsKeyPair } from '../src/crypto/bls.ts';
import { invalidBlobIdMessage, parseStorageConfirmation, storageConfirmationMessage } from '../src/protocol/messages.ts';
import {
  aggregateCertificate,
  bitmapSigners,
  certificateToBcs,
  isAboveValidity,
  isQuorum,
  signersBitmap,
  verifyCertificate,
  type Committee,
} from '../src/protocol/certificate.ts';
import { CertificateError } from '../src/errors.ts';
import { officialBlsAggregate, officialBlsVerify, officialBlsVerifyAggregate } from './helpers/official.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const blobId = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const objectId = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 + i);

describe('protocol messages', () => {
  it('storage confirmations have the Walrus byte layout (40 / 72 bytes)', () => {
    const p = storageConfirmationMessage(7, blobId, { kind: 'permanent' });
    expect(hex(p)).toBe('010003' + '07000000' + hex(blobId) + '00');
    const d = storageConfirmationMessage(0x01020304, blobId, { kind: 'deletable', objectId });
    expect(d.length).toBe(72);
    expect(hex(d)).toBe('010003' + '04030201' + hex(blobId) + '01' + hex(objectId));
    expect(parseStorageConfirmation(d)).toEqual({ epoch: 0x01020304, blobId, persistence: { kind: 'deletable', objectId } });
    expect(hex(invalidBlobIdMessage(2, blobId))).toBe('020003' + '02000000' + hex(blobId));
    expect(() => parseStorageConfirmation(invalidBlobIdMessage(2, blobId))).toThrow(/not a storage confirmation/);
  });
});

describe('BLS12-381 min_pk', () => {
  const keys = Array.from({ length: 4 }, (_, i) => generateBlsKeyPair(new Uint8Array(32).fill(i + 1)));
  const msg = storageConfirmationMessage(3, blobId, { kind: 'permanent' });

  it('signatures verify with the official implementation (message bytes and DST), compressed and uncompressed keys', () => {
    for (const k of keys) {
      const sig = blsSign(k.secretKey, msg);
      expect(officialBlsVerify(sig, k.publicKey, msg)).toBe(true);
      expect(officialBlsVerify(sig, blsPublicKeyUncompressed(k.publicKey), msg)).toBe(true);
      expect(blsVerify(sig, blsPublicKeyUncompressed(k.publicKey), msg)).toBe(true);
      expect(blsVerify(sig, k.publicKey, invalidBlobIdMessage(3, blobId))).toBe(false);
    }
  });

  it('aggregates exactly as the official implementation', () => {
    const sigs = keys.map((k) => blsSign(k.secretKey, msg));
    expect(hex(blsAggregateSignatures(sigs))).toBe(hex(officialBlsAggregate(sigs)));
    expect(
      officialBlsVerifyAggregate(
        keys.map((k) => k.publicKey),
        msg,
        blsAggregateSignatures(sigs),
      ),
    ).toBe(true);
    expect(blsVerify(new Uint8Array(96), keys[0].publicKey, msg)).toBe(false); // malformed → false
  });
});

describe('certificates', () => {
  // 4 members holding 10 shards: weights 4, 3, 2, 1.
  const keys = Array.from({ length: 4 }, (_, i) => generateBlsKeyPair(new Uint8Array(32).fill(0x10 + i)));
  const committee: Committee = {
    epoch: 5,
    nShards: 10,
    members: keys.map((k, i) => ({ publicKey: blsPublicKeyUncompressed(k.publicKey), weight: [4, 3, 2, 1][i] })),
  };
  const msg = storageConfirmationMessage(5, blobId, { kind: 'deletable', objectId });
  const sign = (member: number) => ({ member, signature: blsSign(keys[member].secretKey, msg) });

  it('thresholds follow the contract (n = 1000: quorum 667, validity 334; n = 10: quorum 7, validity 4)', () => {
    expect([isQuorum(667, 1000), isQuorum(666, 1000), isAboveValidity(334, 1000), isAboveValidity(333, 1000)]).toEqual([
      true,
      false,
      true,
      false,
    ]);
    expect([isQuorum(7, 10), isQuorum(6, 10), isAboveValidity(4, 10), isAboveValidity(3, 10)]).toEqual([true, false, true, false]);
  });

  it('bitmaps are least-significant-bit first, bounded, and reject non-members', () => {
    expect(hex(signersBitmap([0, 9, 15], 16))).toBe('0182');
    expect(bitmapSigners(Uint8Array.of(0x01, 0x82), 16)).toEqual([0, 9, 15]);
    expect(bitmapSigners(Uint8Array.of(0x05), 20)).toEqual([0, 2]); // shorter than ⌈n/8⌉ is fine
    expect(() => bitmapSigners(Uint8Array.of(0x10), 4)).toThrow(CertificateError); // member 4 of 4
    expect(() => bitmapSigners(new Uint8Array(2), 4)).toThrow(/too long/);
  });

  it('a quorum certificate verifies; too little weight, a wrong message or a non-signer in the bitmap do not', () => {
    const cert = aggregateCertificate(committee, msg, [sign(2), sign(0), sign(1)]); // 9 of 10 shards
    expect(cert.signers).toEqual([0, 1, 2]);
    const bitmap = signersBitmap(cert.signers, 4);
    expect(verifyCertificate(committee, cert.signature, bitmap, msg)).toEqual({ signers: [0, 1, 2], weight: 9 });
    expect(
      officialBlsVerifyAggregate(
        cert.signers.map((i) => keys[i].publicKey),
        msg,
        cert.signature,
      ),
    ).toBe(true);
    const weak = aggregateCertificate(committee, msg, [sign(1), sign(2)]); // 5 shards: 15 < 21
    expect(() => verifyCertificate(committee, weak.signature, signersBitmap(weak.signers, 4), msg)).toThrow(/not a quorum/);
    expect(verifyCertificate(committee, weak.signature, signersBitmap(weak.signers, 4), msg, 'validity').weight).toBe(5);
    expect(() =>
      verifyCertificate(committee, cert.signature, bitmap, storageConfirmationMessage(5, blobId, { kind: 'permanent' })),
    ).toThrow(/does not verify/);
    expect(() => verifyCertificate(committee, cert.signature, signersBitmap([0, 1, 2, 3], 4), msg)).toThrow(/does not verify/);
    expect(() => aggregateCertificate(committee, msg, [sign(0), { member: 1, signature: blsSign(keys[2].secretKey, msg) }])).toThrow(
      /member 1's signature/,
    );
    expect(() => aggregateCertificate(committee, msg, [sign(0), sign(0)])).toThrow(/signed twice/);
  });

  it('certificate BCS: signers Vec<u16>, message bytes, fixed 96-byte signature', () => {
    const cert = aggregateCertificate(committee, msg, [sign(0), sign(3)]);
    const bcs = certificateToBcs(cert);
    expect(hex(bcs.subarray(0, 5))).toBe('02' + '0000' + '0300');
    expect(bcs[5]).toBe(72);
    expect(bcs.length).toBe(5 + 1 + 72 + 96);
    expect(hex(bcs.subarray(78))).toBe(hex(cert.signature));
  });
});
