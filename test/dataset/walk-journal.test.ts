/** The dataset walk (what is published, what is refused) and the journal's consistency rules. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PublishJournal, walkDataset } from '../../src/api/dataset.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tusk-walk-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('walkDataset', () => {
  it('lists regular files by UTF-8 path order, follows links that stay inside, keeps odd but valid names', async () => {
    const root = join(dir, 'ok');
    await mkdir(join(root, 'sub', 'é'), { recursive: true });
    await writeFile(join(root, 'b.txt'), 'bb');
    await writeFile(join(root, '..foo'), 'x'); // a name starting with two dots is not a parent reference
    await writeFile(join(root, 'sub', 'é', 'z.bin'), 'zzz');
    await symlink(join(root, 'b.txt'), join(root, 'sub', 'link.txt'));
    await symlink(join(root, 'sub', 'é'), join(root, 'dirlink'));
    const files = await walkDataset(root);
    expect(files.map((f) => [f.path, f.size])).toEqual([
      ['..foo', 1],
      ['b.txt', 2],
      ['dirlink/z.bin', 3],
      ['sub/link.txt', 2],
      ['sub/é/z.bin', 3],
    ]);
    expect(files.find((f) => f.path === 'sub/link.txt')!.abs).toBe(join(root, 'b.txt'));
  });

  it('refuses links leaving the directory, loops, broken links, non-UTF-8 names, FIFOs, a missing directory', async () => {
    const outside = join(dir, 'outside.txt');
    await writeFile(outside, 'secret');
    const cases: [string, (root: string) => Promise<void>, RegExp][] = [
      ['link out', (r) => symlink(outside, join(r, 'leak')), /leak: a symbolic link to .*outside the directory being published/],
      ['dir link out', (r) => symlink(dir, join(r, 'up')), /up: a symbolic link to .*outside/],
      ['loop', (r) => symlink(r, join(r, 'self')), /loops back/],
      ['broken', (r) => symlink(join(r, 'nowhere'), join(r, 'dangling')), /dangling: a broken symbolic link/],
      [
        'non-UTF-8',
        (r) => writeFile(Buffer.concat([Buffer.from(`${r}/`), Buffer.from([0xc3, 0x28])]), 'x'),
        /not valid UTF-8 \(bytes c328\)/,
      ],
      ['fifo', async (r) => void execFileSync('mkfifo', [join(r, 'pipe')]), /pipe: not a regular file or directory/],
      ['backslash', (r) => writeFile(join(r, 'a\\b'), 'x'), /cannot be a dataset path: .*backslash/],
    ];
    for (const [name, make, message] of cases) {
      const root = join(dir, `bad-${name.replace(/\W/g, '')}`);
      await mkdir(root);
      await make(root);
      await expect(walkDataset(root), name).rejects.toThrow(message);
    }
    await expect(walkDataset(join(dir, 'missing'))).rejects.toThrow(/no such directory/);
  });
});

describe('PublishJournal', () => {
  it('saves atomically (no temporary file left), reopens, and refuses another directory or other options', async () => {
    const path = join(dir, 'state', 'j.json');
    const j = await PublishJournal.open(path, '/data', 3, true);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => j.setUnit(`k${i}`, { kind: 'blob', state: 'certified', blobId: `id${i}`, bytes: i })),
    );
    expect(await readdir(join(dir, 'state'))).toEqual(['j.json']);
    const again = await PublishJournal.open(path, '/data', 3, true);
    expect(Object.keys(again.state.units)).toHaveLength(20);
    await expect(PublishJournal.open(path, '/other', 3, true)).rejects.toThrow(/belongs to \/data/);
    await expect(PublishJournal.open(path, '/data', 4, true)).rejects.toThrow(/started with --epochs 3/);
    await writeFile(path, '{"torn');
    await expect(PublishJournal.open(path, '/data', 3, true)).rejects.toThrow(/not valid JSON/);
    expect(await readFile(path, 'utf8')).toBe('{"torn');
  });
});
