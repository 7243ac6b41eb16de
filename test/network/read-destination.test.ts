/**
 * `read --out` checks its destination before any download: an existing file (without --force), a
 * missing directory or an unwritable one is refused before the chain or a node is asked anything.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Chain } from '../../src/chain/types.ts';
import { readBlobToFile } from '../../src/client/read-blob.ts';
import { TuskInputError } from '../../src/errors.ts';

let dir: string;
let asked = 0;
// Any use of the chain would be a download attempt: count it.
const chain = new Proxy(
  {},
  {
    get: () => () => {
      asked++;
      throw new Error('the chain must not be asked');
    },
  },
) as unknown as Chain;
const id = 'M4hsZGQ1oCktdzegB6HnI6Mi28S2nqOPHxK-W7_4BUk';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tusk-read-dest-'));
  writeFileSync(join(dir, 'exists.bin'), 'x');
  mkdirSync(join(dir, 'locked'));
  chmodSync(join(dir, 'locked'), 0o500);
});
afterAll(() => {
  chmodSync(join(dir, 'locked'), 0o700);
  rmSync(dir, { recursive: true, force: true });
});

it('refuses a destination it cannot write before downloading anything', async () => {
  await expect(readBlobToFile(id, join(dir, 'exists.bin'), { chain })).rejects.toThrow(/already exists \(use --force/);
  await expect(readBlobToFile(id, join(dir, 'no-such-dir', 'out.bin'), { chain })).rejects.toThrow(
    /directory .*no-such-dir does not exist/,
  );
  await expect(readBlobToFile(id, join(dir, 'exists.bin', 'out.bin'), { chain })).rejects.toBeInstanceOf(TuskInputError);
  if (process.getuid?.() !== 0) {
    // root writes anywhere; the permission check only bites for other users
    await expect(readBlobToFile(id, join(dir, 'locked', 'out.bin'), { chain })).rejects.toThrow(/not writable/);
  }
  expect(asked).toBe(0);
});
