/**
 * Errors of the age implementation. None is retryable: a wrong key, a malformed or tampered file
 * stays so on a second attempt.
 */
import { TuskError } from '../errors.ts';

/** The input is not a well-formed age v1 file (header, armor, key string or payload framing). */
export class AgeFormatError extends TuskError {
  constructor(message: string) {
    super(`age: ${message}`);
    this.name = 'AgeFormatError';
  }
}

/** No identity given could unwrap the file key (wrong key or passphrase). */
export class AgeNoIdentityMatchError extends TuskError {
  constructor(message: string) {
    super(`age: ${message}`);
    this.name = 'AgeNoIdentityMatchError';
  }
}

/** Authentication failed: the header MAC or a payload chunk was tampered with, truncated or reordered. */
export class AgeIntegrityError extends TuskError {
  constructor(message: string) {
    super(`age: ${message}`);
    this.name = 'AgeIntegrityError';
  }
}
