/**
 * age's hybrid post-quantum recipient type `mlkem768x25519` (C2SP age, "native recipient types";
 * age ≥ 1.3, typage ≥ 0.3): `age1pq1…` public keys and `AGE-SECRET-KEY-PQ-1…` identities.
 *
 * The file key is wrapped with HPKE base mode over the X-Wing KEM (./xwing.ts, ./hpke.ts), info
 * `age-encryption.org/mlkem768x25519`; the stanza is `-> mlkem768x25519 <base64 enc, 1120 bytes>`
 * with a 32-byte body (the 16-byte file key and its tag). A PQ recipient carries the label
 * `postquantum`: age refuses to mix it with classic recipients in one file, because the file would
 * then be only as strong as its weakest stanza (a quantum attacker reads the X25519 one).
 */
import { b64Decode, b64Encode } from './base64.ts';
import { bech32Decode, bech32Encode } from './bech32.ts';
import { AgeFormatError } from './errors.ts';
import type { Stanza } from './header.ts';
import { hpkeBaseKeys, hpkeOpen, hpkeSeal } from './hpke.ts';
import type { Identity, Recipient } from './recipient-types.ts';
import { generateXWingSeed, XWING_CIPHERTEXT_SIZE, XWING_KEM_ID, XWingPrivateKey, XWingPublicKey } from './xwing.ts';

const STANZA_TYPE = 'mlkem768x25519';
const INFO = new TextEncoder().encode('age-encryption.org/mlkem768x25519');
const RECIPIENT_HRP = 'age1pq';
const IDENTITY_HRP = 'age-secret-key-pq-';
/** The label of post-quantum recipients (they may only be combined with each other). */
export const POST_QUANTUM_LABEL = 'postquantum';

/** An `age1pq1…` public key (1216 bytes: ML-KEM-768 ‖ X25519). */
export class MlKem768X25519Recipient implements Recipient {
  readonly labels = [POST_QUANTUM_LABEL] as const;
  private readonly key: XWingPublicKey;
  /** @param publicKey 1216 raw bytes (copied); throws AgeFormatError when invalid. */
  constructor(publicKey: Uint8Array) {
    this.key = new XWingPublicKey(publicKey);
  }
  /** The raw 1216-byte key (do not mutate). */
  get publicKey(): Uint8Array {
    return this.key.bytes;
  }
  /** Parses `age1pq1…` (Bech32, lower case, no length limit). */
  static parse(s: string): MlKem768X25519Recipient {
    let decoded;
    try {
      decoded = bech32Decode(s);
    } catch {
      throw new AgeFormatError('malformed post-quantum recipient (expected age1pq1…)');
    }
    if (decoded.hrp !== RECIPIENT_HRP || s !== s.toLowerCase())
      throw new AgeFormatError('not a post-quantum recipient (expected age1pq1…)');
    return new MlKem768X25519Recipient(decoded.data);
  }
  toString(): string {
    return bech32Encode(RECIPIENT_HRP, this.key.bytes);
  }
  async wrapFileKey(fileKey: Uint8Array): Promise<Stanza[]> {
    const { ciphertext, sharedSecret } = this.key.encapsulate();
    const body = hpkeSeal(hpkeBaseKeys(XWING_KEM_ID, sharedSecret, INFO), fileKey);
    sharedSecret.fill(0);
    return [{ type: STANZA_TYPE, args: [b64Encode(ciphertext)], body }];
  }
}

/** An `AGE-SECRET-KEY-PQ-1…` identity (a 32-byte X-Wing seed). */
export class MlKem768X25519Identity implements Identity {
  private readonly seed: Uint8Array;
  private readonly key: XWingPrivateKey;
  readonly recipient: MlKem768X25519Recipient;
  /** @param seed 32 raw bytes (copied: kept to print the identity). */
  constructor(seed: Uint8Array) {
    this.key = new XWingPrivateKey(seed);
    this.seed = Uint8Array.from(seed);
    this.recipient = new MlKem768X25519Recipient(this.key.publicKey);
  }
  /** A fresh random identity. */
  static generate(): MlKem768X25519Identity {
    const seed = generateXWingSeed();
    const id = new MlKem768X25519Identity(seed);
    seed.fill(0);
    return id;
  }
  /** Parses `AGE-SECRET-KEY-PQ-1…` (Bech32, upper case). */
  static parse(s: string): MlKem768X25519Identity {
    let decoded;
    try {
      decoded = bech32Decode(s);
    } catch {
      throw new AgeFormatError('malformed identity (expected AGE-SECRET-KEY-PQ-1…)');
    }
    if (decoded.hrp !== IDENTITY_HRP || s !== s.toUpperCase())
      throw new AgeFormatError('not a post-quantum identity (expected AGE-SECRET-KEY-PQ-1…)');
    return new MlKem768X25519Identity(decoded.data);
  }
  toString(): string {
    return bech32Encode(IDENTITY_HRP, this.seed).toUpperCase();
  }
  async unwrapFileKey(stanzas: readonly Stanza[]): Promise<Uint8Array | null> {
    for (const st of stanzas) {
      if (st.type !== STANZA_TYPE) continue;
      if (st.args.length !== 1) throw new AgeFormatError(`${STANZA_TYPE} stanza needs exactly one argument`);
      const enc = b64Decode(st.args[0]);
      if (enc.length !== XWING_CIPHERTEXT_SIZE) throw new AgeFormatError(`${STANZA_TYPE} enc must be ${XWING_CIPHERTEXT_SIZE} bytes`);
      // Checked before any decryption: a longer body would otherwise unwrap a longer "file key".
      if (st.body.length !== 32) throw new AgeFormatError(`${STANZA_TYPE} stanza body must be 32 bytes`);
      const secret = this.key.decapsulate(enc);
      const key = hpkeOpen(hpkeBaseKeys(XWING_KEM_ID, secret, INFO), st.body);
      secret.fill(0);
      if (key) return key;
    }
    return null;
  }
}
