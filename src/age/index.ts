/**
 * Client-side encryption in the age v1 format (age-encryption.org/v1): files Tusk encrypts decrypt
 * with the standard `age` tool and vice versa. Everything runs on node:crypto (X25519, scrypt,
 * HKDF, HMAC, ChaCha20-Poly1305) and streams; `openEncryptedBlob` decrypts byte ranges.
 */
export {
  encrypt,
  decrypt,
  openEncryptedBlob,
  isAgeEncrypted,
  unwrapFileKey,
  ciphertextSize,
  type EncryptOptions,
  type DecryptOptions,
  type RandomAccessSource,
  type EncryptedBlob,
} from './age.ts';
export {
  X25519Identity,
  X25519Recipient,
  ScryptIdentity,
  ScryptRecipient,
  parseIdentities,
  parseRecipients,
  toIdentities,
  toRecipient,
  DEFAULT_SCRYPT_LOG_N,
  MAX_SCRYPT_LOG_N,
  type Identity,
  type Recipient,
} from './recipients.ts';
export { parseHeader, encodeHeader, headerLength, type Stanza, type ParsedHeader } from './header.ts';
export { armorEncode, armorDecode, ARMOR_BEGIN, ARMOR_END } from './armor.ts';
export { CHUNK_SIZE, CIPHER_CHUNK_SIZE, payloadSize, plaintextSizeOfPayload } from './payload.ts';
export { AgeFormatError, AgeIntegrityError, AgeNoIdentityMatchError } from './errors.ts';
export { encryptFile, decryptFile, fileSource } from './files.ts';
