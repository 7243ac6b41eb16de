/**
 * `tusk/age`: client-side encryption in the age v1 format (X25519 and scrypt recipients, the
 * STREAM payload, armor), streaming and with random access to chunks.
 */
export * from '../age/index.ts';
