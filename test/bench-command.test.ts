/**
 * `tusk bench` as a user runs it (a real process): a small grid of both encodings with the
 * official encoder alongside, the JSON report's shape and sanity (every configuration measured,
 * ratios against the official encoder, the kernel flavour the process ran), the kernel
 * micro-benchmarks, the markdown table, and usage errors.
 */
import { describe, expect, it } from 'vitest';
import { runTusk } from './helpers/cli.ts';
import { parseSize } from '../src/cli/bench-command.ts';

describe('tusk bench', () => {
  it('measures encode, blob ID and decode for rs2 and rs8 beside the official encoder (JSON)', async () => {
    const r = await runTusk([
      'bench',
      '--n-shards',
      '10',
      '--sizes',
      '64KiB,100000',
      '--encoding',
      'both',
      '--threads',
      '1,2',
      '--runs',
      '1',
      '--kernels',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.kernelFlavor).toBe(process.env.TUSK_WASM || 'relaxed');
    expect(report.cores).toBeGreaterThan(0);
    expect(report.officialAvailable).toBe(true);
    expect(report.failures).toEqual([]);
    // Tusk: 2 encodings × 2 sizes × 2 thread counts × 3 ops; official: RS2 only, 2 sizes × 3 ops.
    const tusk = report.rows.filter((x: any) => x.impl === 'tusk');
    const official = report.rows.filter((x: any) => x.impl === 'official');
    expect(tusk).toHaveLength(24);
    expect(official).toHaveLength(6);
    for (const row of report.rows) {
      expect(row.medianSeconds).toBeGreaterThan(0);
      expect(row.mbPerSecond).toBeCloseTo(row.sizeBytes / 1e6 / row.medianSeconds, 6);
      expect(row.peakRssMiB).toBeGreaterThan(10);
      expect(row.medianCpuSeconds).toBeGreaterThanOrEqual(0);
    }
    for (const row of tusk) {
      if (row.encoding === 'rs2') expect(row.speedupVsOfficial).toBeGreaterThan(0);
      else expect(row.speedupVsOfficial).toBeUndefined();
    }
    expect(new Set(tusk.map((x: any) => x.sizeBytes))).toEqual(new Set([65536, 100000]));
    const kernels = report.kernels as { flavor: string; name: string; perSecond: number }[];
    expect(new Set(kernels.map((k) => k.flavor))).toEqual(new Set(['relaxed', 'simd', 'scalar']));
    expect(kernels.map((k) => k.name)).toContain('rs-encode gf16 334→1000');
    for (const k of kernels) expect(k.perSecond).toBeGreaterThan(0);
  }, 120_000);

  it('prints a markdown table without --json', async () => {
    const r = await runTusk(['bench', '--n-shards', '10', '--sizes', '4KiB', '--runs', '1', '--no-official']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^tusk bench — .* cores, Node v\d+/);
    expect(r.stdout).toContain('| impl | op | encoding | n_shards | size |');
    expect(r.stdout).toMatch(/\| tusk \| decode \| rs2 \| 10 \| 4 KiB \|/);
    expect(r.stdout).toContain('official: not installed');
  }, 60_000);

  it('refuses bad options with exit 2 and RS8 on a committee too large with a clear error', async () => {
    const bad = await runTusk(['bench', '--encoding', 'rs9']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--encoding must be rs2, rs8 or both/);
    const sizes = await runTusk(['bench', '--sizes', 'lots']);
    expect(sizes.code).toBe(2);
    expect(sizes.stderr).toMatch(/--sizes: cannot read "lots"/);
    const big = await runTusk(['bench', '--encoding', 'rs8', '--n-shards', '1000']);
    expect(big.code).toBe(1);
    expect(big.stderr).toMatch(/RS8 supports n_shards ≤ 195/);
  }, 60_000);

  it('reads sizes with binary and decimal units', () => {
    expect(parseSize('16MiB')).toBe(16 << 20);
    expect(parseSize('512KiB')).toBe(512 << 10);
    expect(parseSize('1GiB')).toBe(1 << 30);
    expect(parseSize('2MB')).toBe(2e6);
    expect(parseSize('1000')).toBe(1000);
    expect(parseSize('1.5MiB')).toBe(1.5 * (1 << 20));
    expect(parseSize('x')).toBeUndefined();
    expect(parseSize('3 parsecs')).toBeUndefined();
  });
});
