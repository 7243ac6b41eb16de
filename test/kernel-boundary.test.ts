/**
 * The typed, checked boundary to the kernels: the generated export type matches the built module,
 * and a task whose regions leave its memory is refused before the unchecked kernel runs it.
 */
import { describe, expect, it } from 'vitest';
import { CHECK_TASKS, checkTask, runStripeTask, type ExpandTask } from '../src/codec/tasks.ts';
import { defaultKernel } from '../src/wasm/kernel.ts';

const expand = (over: Partial<ExpandTask>): ExpandTask => ({
  kind: 'expand',
  encoding: 'RS2',
  n: 10,
  k: 4,
  S: 2,
  h: 1,
  area: 0,
  work: 1024,
  workStride: 64,
  leaves: 2048,
  roots: 4096,
  scratch: 4200,
  ...over,
});

describe('kernel boundary', () => {
  it('is checked under vitest', () => {
    expect(CHECK_TASKS).toBe(true);
  });

  it('accepts a task inside memory and refuses one past its end, naming the region', () => {
    expect(() => checkTask(expand({}), 65536)).not.toThrow();
    expect(() => checkTask(expand({ leaves: 65536 - 100 }), 65536)).toThrow(
      /region leaves \[65436, 65756\) is outside memory of 65536 bytes/,
    );
    expect(() => checkTask(expand({ area: -64 }), 65536)).toThrow(RangeError);
    expect(() => checkTask(expand({ work: 1.5 }), 65536)).toThrow(/region work/);
  });

  it('runStripeTask refuses an out-of-bounds task before the kernel touches memory', () => {
    const kernel = defaultKernel();
    const bytes = kernel.u8().byteLength;
    const before = kernel.u8().slice(bytes - 64);
    expect(() => runStripeTask(kernel.exports, expand({ roots: bytes - 8 }), bytes)).toThrow(/region roots/);
    expect(kernel.u8().slice(bytes - 64)).toEqual(before);
  });

  it('the generated export type names exactly the functions the built module exports', async () => {
    const generated = await import('node:fs').then((fs) =>
      fs.readFileSync(new URL('../src/wasm/kernel-exports.generated.ts', import.meta.url), 'utf8'),
    );
    const declared = [...generated.matchAll(/^ {2}(\w+)\(/gm)].map((m) => m[1]).sort();
    const exported = Object.entries(defaultKernel().exports)
      .filter(([, v]) => typeof v === 'function')
      .map(([k]) => k)
      .sort();
    expect(declared).toEqual(exported);
  });
});
