/**
 * File-level helpers: encrypt/decrypt a file (or stdin/stdout stream) into an output file that
 * appears only on success — decryption releases verified chunks before a later chunk can fail,
 * so the output is written under a temporary name in the same directory and renamed at the end
 * (removed on any error: no partial plaintext is left behind).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { Readable, Writable } from 'node:stream';
import { decrypt, encrypt, openEncryptedBlob, type DecryptOptions, type EncryptOptions, type RandomAccessSource } from './age.ts';

type Input = string | Readable;

function inputStream(input: Input): AsyncIterable<Uint8Array> {
  return typeof input === 'string' ? createReadStream(input, { highWaterMark: 1 << 20 }) : input;
}

/**
 * Runs `transform` from `input` into `out` (a path: written atomically, no file on failure; or a
 * Writable such as stdout). Resolves to the bytes written.
 */
async function transformTo(
  input: Input,
  out: string | Writable,
  transform: (src: AsyncIterable<Uint8Array>) => AsyncIterable<Uint8Array>,
  overwrite: boolean,
): Promise<number> {
  let bytes = 0;
  const counted = async function* (src: AsyncIterable<Uint8Array>) {
    for await (const b of transform(src)) {
      bytes += b.length;
      yield b;
    }
  };
  if (typeof out !== 'string') {
    await pipeline(inputStream(input), counted, out, { end: out !== process.stdout });
    return bytes;
  }
  if (!overwrite) {
    // Fail before any work when the output exists (O_EXCL probe, removed again).
    const h = await open(out, 'wx');
    await h.close();
    await rm(out);
  }
  const tmp = join(dirname(out), `.${basename(out)}.${randomBytes(6).toString('hex')}.part`);
  try {
    await pipeline(inputStream(input), counted, createWriteStream(tmp, { mode: 0o600 }));
    await rename(tmp, out);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  return bytes;
}

/** Encrypts `input` to `out`; resolves to the ciphertext size. */
export function encryptFile(input: Input, out: string | Writable, options: EncryptOptions & { overwrite?: boolean }): Promise<number> {
  return transformTo(input, out, (src) => encrypt(src, options), options.overwrite ?? false);
}

/** Decrypts `input` to `out`; resolves to the plaintext size. No output file remains on failure. */
export function decryptFile(input: Input, out: string | Writable, options: DecryptOptions & { overwrite?: boolean }): Promise<number> {
  return transformTo(input, out, (src) => decrypt(src, options), options.overwrite ?? false);
}

/** A RandomAccessSource over a local file (the caller closes it with `close()`). */
export async function fileSource(path: string): Promise<RandomAccessSource & { close(): Promise<void> }> {
  const h = await open(path, 'r');
  const { size } = await h.stat();
  return {
    size,
    async read(offset, length) {
      const buf = Buffer.allocUnsafe(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await h.read(buf, got, length - got, offset + got);
        if (bytesRead === 0) throw new Error(`short read at ${offset + got}`);
        got += bytesRead;
      }
      return buf;
    },
    close: () => h.close(),
  };
}

/**
 * Decrypts plaintext bytes [start, end) of the encrypted file at `path` to `out`, reading only
 * the chunks covering the range. Resolves to the bytes written.
 */
export async function decryptFileRange(
  path: string,
  out: string | Writable,
  start: number,
  end: number | undefined,
  options: DecryptOptions & { overwrite?: boolean },
): Promise<number> {
  const src = await fileSource(path);
  try {
    const blob = await openEncryptedBlob(src, options);
    const e = Math.min(end ?? blob.plaintextSize, blob.plaintextSize);
    return await transformTo(
      new (await import('node:stream')).Readable({
        read() {
          this.push(null);
        },
      }),
      out,
      () => blob.readRange(Math.min(start, e), e),
      options.overwrite ?? false,
    );
  } finally {
    await src.close();
  }
}
