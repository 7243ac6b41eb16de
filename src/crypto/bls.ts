/**
 * BLS12-381 in Walrus's "min_pk" form (walrus-protocol.md §6.2): public keys in G1 (48 bytes
 * compressed, or 96 bytes uncompressed as stored on chain), signatures in G2 (96 bytes compressed),
 * hash-to-curve DST `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_`. The signed bytes are exactly
 * the serialized protocol message. Built on @noble/curves (audited, no native code).
 */
import { bls12_381 as bls } from '@noble/curves/bls12-381.js';
import { createHash, randomBytes } from 'node:crypto';
import { TuskInputError } from '../errors.ts';

const scheme = bls.longSignatures; // min_pk: long signatures (G2), short keys (G1)

/** A BLS key pair; `publicKey` is the 48-byte compressed G1 point. */
export interface BlsKeyPair {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/**
 * A fresh key pair; from `seed` (≥ 32 bytes) when given, deterministically (tests, dev networks).
 * The seed is stretched to the 48 bytes of key material the keygen expects with SHA-512.
 */
export function generateBlsKeyPair(seed?: Uint8Array): BlsKeyPair {
  if (seed && seed.length < 32) throw new TuskInputError(`bls: seed must be at least 32 bytes, got ${seed.length}`);
  const material = seed ? createHash('sha512').update(seed).digest().subarray(0, 48) : randomBytes(48);
  const { secretKey } = scheme.keygen(new Uint8Array(material));
  return { secretKey, publicKey: blsPublicKey(secretKey) };
}

/** The 48-byte compressed public key of a 32-byte secret key. */
export function blsPublicKey(secretKey: Uint8Array): Uint8Array {
  return scheme.getPublicKey(secretKey).toBytes(true);
}

/** The 48-byte compressed form of a G1 public key given compressed or uncompressed (96 B, as Sui stores it). */
export function blsPublicKeyCompressed(publicKey: Uint8Array): Uint8Array {
  return pkPoint(publicKey).toBytes(true);
}

/** The 96-byte uncompressed form of a public key (how Walrus stores keys on chain). */
export function blsPublicKeyUncompressed(publicKey: Uint8Array): Uint8Array {
  return pkPoint(publicKey).toBytes(false);
}

/** Signs `message` (the exact bytes, hashed to G2 with the standard DST); 96-byte signature. */
export function blsSign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  return scheme.sign(scheme.hash(message), secretKey).toBytes(true);
}

/** Verifies a signature; `publicKey` compressed (48) or uncompressed (96). Malformed input → false. */
export function blsVerify(signature: Uint8Array, publicKey: Uint8Array, message: Uint8Array): boolean {
  try {
    return scheme.verify(sigPoint(signature), scheme.hash(message), pkPoint(publicKey));
  } catch {
    return false;
  }
}

/** Sum of signatures (all over the same message), 96 bytes compressed. */
export function blsAggregateSignatures(signatures: readonly Uint8Array[]): Uint8Array {
  if (signatures.length === 0) throw new TuskInputError('bls: nothing to aggregate');
  return scheme.aggregateSignatures(signatures.map(sigPoint)).toBytes(true);
}

/** Sum of public keys, 48 bytes compressed. */
export function blsAggregatePublicKeys(publicKeys: readonly Uint8Array[]): Uint8Array {
  if (publicKeys.length === 0) throw new TuskInputError('bls: nothing to aggregate');
  return scheme.aggregatePublicKeys(publicKeys.map(pkPoint)).toBytes(true);
}

function pkPoint(publicKey: Uint8Array) {
  if (publicKey.length !== 48 && publicKey.length !== 96)
    throw new TuskInputError(`bls: public key must be 48 or 96 bytes, got ${publicKey.length}`);
  return bls.G1.Point.fromBytes(publicKey);
}

function sigPoint(signature: Uint8Array) {
  if (signature.length !== 96) throw new TuskInputError(`bls: signature must be 96 bytes, got ${signature.length}`);
  return bls.G2.Point.fromBytes(signature);
}
