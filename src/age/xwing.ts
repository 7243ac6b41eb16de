/**
 * X-Wing, the hybrid KEM ML-KEM-768 + X25519 (draft-connolly-cfrg-xwing-kem; HPKE KEM id 0x647a),
 * on node:crypto's own ML-KEM-768 (Node ≥ 24.7) and X25519: no extra dependency, and OpenSSL's
 * constant-time code does the lattice work.
 *
 * Keys: the decapsulation key is a 32-byte seed, expanded with SHAKE256 to 96 bytes: the ML-KEM
 * seed (d ‖ z, 64 bytes, FIPS 203 order) and the X25519 secret (32 bytes). The encapsulation key
 * is pk_M (1184) ‖ pk_X (32) = 1216 bytes; a ciphertext is ct_M (1088) ‖ ct_X (32) = 1120 bytes.
 * The shared secret is SHA3-256(ss_M ‖ ss_X ‖ ct_X ‖ pk_X ‖ label) with the 6-byte label `\.//^\`:
 * it binds the X25519 half to its transcript, so neither half alone can be swapped.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  decapsulate,
  encapsulate,
  generateKeyPairSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { AgeFormatError } from './errors.ts';
import { x25519, x25519PrivateKey, x25519RawPublic } from './x25519.ts';

/** HPKE's identifier of this KEM. */
export const XWING_KEM_ID = 0x647a;
/** Bytes of an encapsulation (public) key. */
export const XWING_PUBLIC_KEY_SIZE = 1216;
/** Bytes of a ciphertext (`enc`). */
export const XWING_CIPHERTEXT_SIZE = 1120;
/** Bytes of a decapsulation key (seed). */
export const XWING_SEED_SIZE = 32;

const MLKEM_PUBLIC = 1184;
const MLKEM_CIPHERTEXT = 1088;
const LABEL = Uint8Array.from([0x5c, 0x2e, 0x2f, 0x2f, 0x5e, 0x5c]);

function combine(ssM: Uint8Array, ssX: Uint8Array, ctX: Uint8Array, pkX: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha3-256').update(ssM).update(ssX).update(ctX).update(pkX).update(LABEL).digest());
}

/** A decapsulation key expanded once (two KeyObjects) plus its public key. */
export class XWingPrivateKey {
  private readonly mlkem: KeyObject;
  private readonly x: KeyObject;
  /** pk_M ‖ pk_X (1216 bytes; do not mutate). */
  readonly publicKey: Uint8Array;

  /** @param seed 32 bytes (not retained: only the derived KeyObjects are). */
  constructor(seed: Uint8Array) {
    if (seed.length !== XWING_SEED_SIZE) throw new AgeFormatError(`X-Wing seed must be ${XWING_SEED_SIZE} bytes`);
    const expanded = createHash('shake256', { outputLength: 96 }).update(seed).digest();
    this.mlkem = createPrivateKey({ key: expanded.subarray(0, 64), format: 'raw-seed', asymmetricKeyType: 'ml-kem-768' });
    this.x = x25519PrivateKey(expanded.subarray(64, 96));
    expanded.fill(0);
    const pkM = createPublicKey(this.mlkem).export({ format: 'raw-public' });
    this.publicKey = new Uint8Array(Buffer.concat([pkM, x25519RawPublic(createPublicKey(this.x))]));
  }

  /**
   * The shared secret of `ciphertext` (1120 bytes). A corrupted ML-KEM part yields an unrelated
   * secret (ML-KEM's implicit rejection), so the stanza's tag fails: a mismatch, as age wants.
   * Throws AgeFormatError on a wrong length or a low-order X25519 part.
   */
  decapsulate(ciphertext: Uint8Array): Uint8Array {
    if (ciphertext.length !== XWING_CIPHERTEXT_SIZE) throw new AgeFormatError(`X-Wing ciphertext must be ${XWING_CIPHERTEXT_SIZE} bytes`);
    const ctM = ciphertext.subarray(0, MLKEM_CIPHERTEXT);
    const ctX = ciphertext.subarray(MLKEM_CIPHERTEXT);
    const ssM = new Uint8Array(decapsulate(this.mlkem, ctM));
    const ssX = x25519(this.x, ctX);
    return combine(ssM, ssX, ctX, this.publicKey.subarray(MLKEM_PUBLIC));
  }
}

/** A parsed encapsulation key. */
export class XWingPublicKey {
  private readonly mlkem: KeyObject;
  /** pk_M ‖ pk_X (1216 bytes, copied). */
  readonly bytes: Uint8Array;

  /** Throws AgeFormatError when `publicKey` is not 1216 bytes or its ML-KEM part is invalid (FIPS 203 checks). */
  constructor(publicKey: Uint8Array) {
    if (publicKey.length !== XWING_PUBLIC_KEY_SIZE) throw new AgeFormatError(`X-Wing public key must be ${XWING_PUBLIC_KEY_SIZE} bytes`);
    this.bytes = Uint8Array.from(publicKey);
    try {
      this.mlkem = createPublicKey({
        key: Buffer.from(this.bytes.subarray(0, MLKEM_PUBLIC)),
        format: 'raw-public',
        asymmetricKeyType: 'ml-kem-768',
      });
    } catch {
      throw new AgeFormatError('invalid ML-KEM-768 public key');
    }
  }

  /** A fresh encapsulation: `ciphertext` (1120 bytes) to send, `sharedSecret` (32) to keep. */
  encapsulate(): { ciphertext: Uint8Array; sharedSecret: Uint8Array } {
    const pkX = this.bytes.subarray(MLKEM_PUBLIC);
    const eph = generateKeyPairSync('x25519');
    const ctX = x25519RawPublic(eph.publicKey);
    const ssX = x25519(eph.privateKey, pkX);
    const m = encapsulate(this.mlkem);
    const ctM = new Uint8Array(m.ciphertext);
    return { ciphertext: new Uint8Array(Buffer.concat([ctM, ctX])), sharedSecret: combine(new Uint8Array(m.sharedKey), ssX, ctX, pkX) };
  }
}

/** A fresh random 32-byte seed. */
export function generateXWingSeed(): Uint8Array {
  return new Uint8Array(randomBytes(XWING_SEED_SIZE));
}
