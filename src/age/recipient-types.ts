/**
 * The two pluggable shapes of age v1 (AGE-SPEC §"Recipient types"): a `Recipient` wraps the
 * 16-byte file key into stanzas, an `Identity` unwraps it from the stanzas it recognises. Kept
 * apart from the implementations so each recipient type lives in a file of its own.
 */
import type { Stanza } from './header.ts';

/** Wraps a file key for one reader. `wrapFileKey` must not retain `fileKey`. */
export interface Recipient {
  wrapFileKey(fileKey: Uint8Array): Promise<Stanza[]>;
  /**
   * Labels of this recipient's stanzas (age's rule): all recipients of one file must carry the
   * same set; absent means none. Post-quantum recipients carry `postquantum`, so a file cannot
   * mix them with classic ones by mistake.
   */
  readonly labels?: readonly string[];
}

/**
 * Unwraps the file key. Resolves to null when no stanza is addressed to this identity; throws
 * AgeFormatError on a malformed stanza of its own type (the file is invalid whoever reads it).
 */
export interface Identity {
  unwrapFileKey(stanzas: readonly Stanza[]): Promise<Uint8Array | null>;
}
