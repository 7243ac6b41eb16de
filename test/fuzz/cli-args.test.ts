/**
 * Property-based fuzzing (fast-check) of the CLI's argument handling, in process through `main`:
 * argument vectors built from the real commands and options mixed with unknown options, hostile
 * values (negative, fractional, huge, empty, non-ASCII) and paths. The contract: `main` resolves to
 * 0, 1 or 2 — never throws, never reports an internal error — and a usage error (2) says why on
 * stderr. Every path in the vocabulary lies inside a temporary directory (the commands write and
 * replace files), and no chain is reachable (the client config does not exist), so a vector
 * cannot touch anything outside the sandbox or start a network. Commands that start servers (dev,
 * chain serve, node run) and the benchmark are left out.
 * Vectors: 150 by default, 100,000 under TUSK_SLOW=1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';

const RUNS = Number(process.env.TUSK_FUZZ_RUNS) || (process.env.TUSK_SLOW ? 100_000 : 150);
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tusk-cli-fuzz-'));
  writeFileSync(join(dir, 'small.bin'), new Uint8Array(1000).fill(3));
  writeFileSync(join(dir, 'empty.bin'), new Uint8Array(0));
  mkdirSync(join(dir, 'a-dir'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `main(argv)` with stdout/stderr captured. */
async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const w1 = process.stdout.write.bind(process.stdout);
  const w2 = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((c: string | Uint8Array) => ((out += String(c)), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => ((err += String(c)), true)) as typeof process.stderr.write;
  try {
    return { code: await main(argv), out, err };
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
  }
}

describe('the CLI argument parser under fuzzing', () => {
  it('every vector ends in exit 0, 1 or 2 with no internal error; usage errors say why', async () => {
    const path = fc.constantFrom('small.bin', 'empty.bin', 'a-dir', 'missing.bin', 'out-dir', 'out.bin').map((p) => join(dir, p));
    const value = fc.oneof(
      fc.constantFrom(
        '0',
        '1',
        '3',
        '4',
        '-1',
        '1.5',
        '99999999999',
        '1e3',
        '',
        ' ',
        'NaN',
        'rs2',
        'rs8',
        'rs9',
        '∞',
        'AAAA',
        '0x' + 'ab'.repeat(32),
      ),
      path,
      fc.string({ maxLength: 12 }),
    );
    const option = fc.constantFrom(
      '--n-shards',
      '--encoding',
      '--out',
      '--force',
      '--check',
      '--json',
      '--epochs',
      '--permanent',
      '--deletable',
      '--blob-obj-id',
      '--node-id',
      '--amount',
      '--include-expired',
      '--unknown-option',
      '-x',
      '--',
      '--help',
    );
    const command = fc.constantFrom(
      'blob-id',
      'encode',
      'decode',
      'store',
      'read',
      'blob-status',
      'list-blobs',
      'extend',
      'delete',
      'info',
      'stake',
      'wallet',
      'nonsense',
      '',
    );
    const argv = fc.tuple(command, fc.array(fc.oneof(option, value, path), { maxLength: 7 })).map(([c, rest]) => {
      // No config file exists here: client commands fail fast instead of reaching a chain.
      const args = c === '' ? rest : [c, ...rest];
      return c === 'wallet'
        ? [c, 'address', ...rest.filter((a) => a !== '--out')]
        : [...args, '--config', join(dir, 'no-such-config.json')];
    });
    await fc.assert(
      fc.asyncProperty(argv, async (args) => {
        const r = await run(args);
        if (![0, 1, 2].includes(r.code)) throw new Error(`${JSON.stringify(args)} → exit ${r.code}`);
        if (/internal error/.test(r.err)) throw new Error(`${JSON.stringify(args)} → ${r.err.split('\n')[0]}`);
        if (r.code === 2 && !/^tusk: /.test(r.err))
          throw new Error(`${JSON.stringify(args)} → usage error without a reason: ${r.err.slice(0, 200)}`);
        return true;
      }),
      { numRuns: RUNS },
    );
  }, 300_000);
});
