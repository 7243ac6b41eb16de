/**
 * Full disks for the streaming encoder and decoder: `tusk encode` and `tusk decode` (real
 * processes) writing onto a real 1 MiB tmpfs fail with a clear "no space left on device" error,
 * exit 1, and leave nothing behind (the file system is empty again). Mounting needs root: without
 * it the test is skipped with a LOUD message, never passed silently.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTusk } from '../helpers/cli.ts';
import { randomBytes } from '../helpers/blobs.ts';

const dir = mkdtempSync(join(tmpdir(), 'tusk-full-'));
const mnt = join(dir, 'mnt');
let mounted = false;
try {
  mkdirSync(mnt);
  if (process.getuid?.() === 0) {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt], { stdio: 'ignore' });
    mounted = true;
  }
} catch {
  mounted = false;
}
if (!mounted)
  console.warn('\n!!! SKIPPED test/stream/full-temp-dir.test.ts: mounting a tmpfs needs root (run as root to test full disks) !!!\n');

const usedBlocks = () => {
  const s = statfsSync(mnt);
  return s.blocks - s.bfree;
};

beforeAll(() => {
  writeFileSync(join(dir, 'in.bin'), randomBytes(3_000_000, 7));
});

afterAll(() => {
  if (mounted) execFileSync('umount', [mnt], { stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!mounted)('a full file system', () => {
  it('encode fails cleanly and removes what it wrote', async () => {
    const empty = usedBlocks();
    const r = await runTusk(['encode', join(dir, 'in.bin'), '--out', join(mnt, 'enc'), '--n-shards', '100', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error.message).toMatch(/no space left on device/);
    expect(readdirSync(mnt)).toEqual([]);
    expect(usedBlocks()).toBe(empty);
  });

  it('decode fails cleanly and removes its partial output', async () => {
    const enc = join(dir, 'enc');
    expect((await runTusk(['encode', join(dir, 'in.bin'), '--out', enc, '--n-shards', '100'])).code).toBe(0);
    const empty = usedBlocks();
    const r = await runTusk(['decode', enc, '--out', join(mnt, 'out.bin'), '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error.message).toMatch(/no space left on device/);
    expect(readdirSync(mnt)).toEqual([]);
    expect(usedBlocks()).toBe(empty);
    // Space returns (a roomier destination): the same decode succeeds.
    expect((await runTusk(['decode', enc, '--out', join(dir, 'out.bin')])).code).toBe(0);
  });
});
