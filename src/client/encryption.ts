/**
 * Client-side encryption around the store and read flows (issue 17): `encrypt: { recipients }`
 * on store turns the input into an age v1 file first (streamed to a private temporary file, so
 * memory stays bounded), and the nodes only ever see ciphertext; `decrypt: { identities }` on
 * read decrypts the blob read back (the whole blob, or only the chunks covering `range`) into the
 * output, which appears only when every byte verified. Decryption stays with the user: the
 * storage nodes and the chain never hold identities.
 */
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareOutput } from '../stream/output.ts';
import { Readable } from 'node:stream';
import { decryptFile, encryptFile } from '../age/files.ts';
import { decryptFileRange } from '../age/files.ts';
import { isAgeEncrypted, type DecryptOptions, type EncryptOptions } from '../age/age.ts';
import { AgeFormatError } from '../age/errors.ts';

/** `decrypt` option of a read: identities, and optionally a plaintext byte range [start, end). */
export interface ReadDecryptOptions extends DecryptOptions {
  readonly range?: { readonly start: number; readonly end?: number };
}

/**
 * Encrypts `input` (bytes or a file) for `encrypt.recipients` into a private temporary file,
 * runs `store` on that file, and removes the file once `store` settles.
 */
export async function withEncryptedInput<T>(
  input: Uint8Array | { readonly path: string },
  encrypt: EncryptOptions,
  tempDir: string | undefined,
  store: (path: string) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(tempDir ?? tmpdir(), 'tusk-encrypt-'));
  try {
    const path = join(dir, 'blob.age');
    const source = input instanceof Uint8Array ? Readable.from([input]) : input.path;
    await encryptFile(source, path, { ...encrypt, overwrite: true });
    return await store(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Runs `read` into a private temporary ciphertext file, then decrypts it (or its `range`) into
 * `out` atomically. Resolves to `read`'s result and the plaintext bytes written.
 * Throws AgeFormatError when the blob is not an age file.
 */
export async function withDecryptedOutput<T>(
  out: string,
  decrypt: ReadDecryptOptions,
  overwrite: boolean,
  tempDir: string | undefined,
  read: (cipherPath: string) => Promise<T>,
): Promise<{ result: T; bytes: number }> {
  // The output is checked before any download, and written as any read output is: atomically for
  // a regular file, in place for `-`, a device, FIFO or link (src/stream/output.ts).
  const target = await prepareOutput(out, { overwrite, tempDir });
  const dir = await mkdtemp(join(tempDir ?? tmpdir(), '.tusk-decrypt-'));
  try {
    const cipher = join(dir, 'blob.age');
    const result = await read(cipher);
    const h = await open(cipher, 'r');
    const head = Buffer.alloc(1024);
    const { bytesRead } = await h.read(head, 0, 1024, 0);
    await h.close();
    if (!isAgeEncrypted(head.subarray(0, bytesRead)))
      throw new AgeFormatError('the blob is not age-encrypted (no age-encryption.org/v1 header); read it without identities');
    const bytes = decrypt.range
      ? await decryptFileRange(cipher, target.partialPath, decrypt.range.start, decrypt.range.end, {
          identities: decrypt.identities,
          overwrite: true,
        })
      : await decryptFile(cipher, target.partialPath, { identities: decrypt.identities, overwrite: true });
    await target.commit();
    return { result, bytes };
  } catch (e) {
    await target.discard();
    throw e;
  } finally {
    await target.release();
    await rm(dir, { recursive: true, force: true });
  }
}
