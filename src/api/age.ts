/**
 * `tusk/age`: client-side encryption in the age v1 format (X25519, hybrid post-quantum
 * `mlkem768x25519` and scrypt recipients, the STREAM payload, armor), streaming and with random
 * access to chunks.
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
} from '../age/age.ts';
export {
  X25519Identity,
  X25519Recipient,
  MlKem768X25519Identity,
  MlKem768X25519Recipient,
  POST_QUANTUM_LABEL,
  ScryptIdentity,
  ScryptRecipient,
  parseIdentities,
  parseRecipients,
  parseIdentity,
  parseRecipient,
  toIdentities,
  toRecipient,
  DEFAULT_SCRYPT_LOG_N,
  MAX_SCRYPT_LOG_N,
  type Identity,
  type Recipient,
  type NativeIdentity,
  type NativeRecipient,
} from '../age/recipients.ts';
export { parseHeader, encodeHeader, headerLength, type Stanza, type ParsedHeader } from '../age/header.ts';
export { armorEncode, armorDecode, ARMOR_BEGIN, ARMOR_END } from '../age/armor.ts';
export { CHUNK_SIZE, CIPHER_CHUNK_SIZE, payloadSize, plaintextSizeOfPayload } from '../age/payload.ts';
export { AgeFormatError, AgeIntegrityError, AgeNoIdentityMatchError } from '../age/errors.ts';
export { encryptFile, decryptFile, fileSource } from '../age/files.ts';
