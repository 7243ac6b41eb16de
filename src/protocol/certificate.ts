/**
 * Certificates: a committee's aggregate BLS signature over one protocol message, checked the way
 * the Walrus contract does (walrus-protocol.md §6.3): signers are given as a bitmap over the
 * committee members (member i → byte i/8, bit i%8, least significant bit first; at most
 * ⌈members/8⌉ bytes, no bits beyond the last member); the aggregate key is the sum of the
 * signers' keys; the weight is the signers' shard count.
 *  - quorum (certify_blob): 3·w ≥ 2·n_shards + 1
 *  - one correct node (invalidate_blob_id): 3·w ≥ n_shards + 1
 */
import { CertificateError, TuskInputError } from '../errors.ts';
import { blsAggregatePublicKeys, blsAggregateSignatures, blsVerify } from '../crypto/bls.ts';
import { ulebLength, writeU16, writeUleb } from '../codec/bcs.ts';

/** A committee member: its BLS public key (48 or 96 bytes) and its weight (shards held). */
export interface CommitteeMember {
  readonly publicKey: Uint8Array;
  readonly weight: number;
}

/** A committee as the contract sees it: members in order (signer index = position), n_shards. */
export interface Committee {
  readonly epoch: number;
  readonly nShards: number;
  readonly members: readonly CommitteeMember[];
}

/** Which threshold a certificate must reach. */
export type CertificateThreshold = 'quorum' | 'validity';

/** True when `weight` shards are a quorum of `nShards`: 3·w ≥ 2·n + 1. */
export function isQuorum(weight: number, nShards: number): boolean {
  return 3 * weight >= 2 * nShards + 1;
}

/** True when `weight` shards contain at least one correct node: 3·w ≥ n + 1. */
export function isAboveValidity(weight: number, nShards: number): boolean {
  return 3 * weight >= nShards + 1;
}

/** The signers bitmap for member indices `signers` of a committee of `nMembers`. */
export function signersBitmap(signers: readonly number[], nMembers: number): Uint8Array {
  const out = new Uint8Array(Math.ceil(nMembers / 8));
  for (const i of signers) {
    if (!Number.isInteger(i) || i < 0 || i >= nMembers) throw new TuskInputError(`signer index ${i} out of range 0…${nMembers - 1}`);
    out[i >> 3] |= 1 << (i & 7);
  }
  return out;
}

/** Member indices set in `bitmap`. @throws CertificateError if it is too long or names non-members. */
export function bitmapSigners(bitmap: Uint8Array, nMembers: number): number[] {
  if (bitmap.length > Math.ceil(nMembers / 8))
    throw new CertificateError(`signers bitmap of ${bitmap.length} bytes is too long for ${nMembers} members`);
  const out: number[] = [];
  for (let i = 0; i < bitmap.length * 8; i++) {
    if ((bitmap[i >> 3] >> (i & 7)) & 1) {
      if (i >= nMembers) throw new CertificateError(`signers bitmap names member ${i} of only ${nMembers}`);
      out.push(i);
    }
  }
  return out;
}

/** A certificate: signer member indices, the signed message, the 96-byte aggregate signature. */
export interface Certificate {
  readonly signers: readonly number[];
  readonly serializedMessage: Uint8Array;
  readonly signature: Uint8Array;
}

/**
 * Aggregates members' signatures over `message` into a certificate. Each signature is verified
 * first (a bad one would poison the aggregate) unless `options.verified` says the caller already
 * checked every one against its member's key and this message; duplicate members are rejected.
 * @throws CertificateError for a signature that does not verify or a repeated member.
 */
export function aggregateCertificate(
  committee: Committee,
  message: Uint8Array,
  signatures: readonly { member: number; signature: Uint8Array }[],
  options: { verified?: boolean } = {},
): Certificate {
  const seen = new Set<number>();
  for (const { member, signature } of signatures) {
    const m = committee.members[member];
    if (!m) throw new CertificateError(`member ${member} is not in the committee`);
    if (seen.has(member)) throw new CertificateError(`member ${member} signed twice`);
    seen.add(member);
    if (!options.verified && !blsVerify(signature, m.publicKey, message))
      throw new CertificateError(`member ${member}'s signature does not verify`);
  }
  const sorted = [...signatures].sort((a, b) => a.member - b.member);
  return {
    signers: sorted.map((s) => s.member),
    serializedMessage: message,
    signature: blsAggregateSignatures(sorted.map((s) => s.signature)),
  };
}

/**
 * Verifies a certificate as the contract does: bitmap → signers, their summed keys verify the
 * aggregate signature over `message`, and their weight reaches `threshold`.
 * @returns the signers and their weight. @throws CertificateError otherwise.
 */
export function verifyCertificate(
  committee: Committee,
  signature: Uint8Array,
  bitmap: Uint8Array,
  message: Uint8Array,
  threshold: CertificateThreshold = 'quorum',
): { signers: number[]; weight: number } {
  const total = committee.members.reduce((s, m) => s + m.weight, 0);
  if (total !== committee.nShards) throw new CertificateError(`committee weights sum to ${total}, not n_shards = ${committee.nShards}`);
  const signers = bitmapSigners(bitmap, committee.members.length);
  if (signers.length === 0) throw new CertificateError('certificate has no signers');
  const weight = signers.reduce((s, i) => s + committee.members[i].weight, 0);
  const enough = threshold === 'quorum' ? isQuorum(weight, committee.nShards) : isAboveValidity(weight, committee.nShards);
  if (!enough)
    throw new CertificateError(
      `signers hold ${weight} of ${committee.nShards} shards: not ${threshold === 'quorum' ? 'a quorum' : 'above validity'}`,
    );
  const key = blsAggregatePublicKeys(signers.map((i) => committee.members[i].publicKey));
  if (!blsVerify(signature, key, message)) throw new CertificateError('aggregate signature does not verify for the signers');
  return { signers, weight };
}

/**
 * BCS of Rust's ProtocolMessageCertificate: signers Vec<u16> ‖ serialized_message bytes ‖
 * signature [u8; 96] (fixed size, no length prefix).
 */
export function certificateToBcs(cert: Certificate): Uint8Array {
  const n = cert.signers.length,
    m = cert.serializedMessage.length;
  const out = new Uint8Array(ulebLength(n) + 2 * n + ulebLength(m) + m + 96);
  let off = writeUleb(out, 0, n);
  for (const s of cert.signers) off = writeU16(out, off, s);
  off = writeUleb(out, off, m);
  out.set(cert.serializedMessage, off);
  out.set(cert.signature, off + m);
  return out;
}
