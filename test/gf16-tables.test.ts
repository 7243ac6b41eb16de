import { describe, expect, it } from 'vitest';
import { WasmKernel } from '../src/wasm/kernel.ts';
import { readVector, sha256Hex } from './helpers/vectors.ts';

describe('GF(2^16) tables', () => {
  const k = new WasmKernel();
  const mem = () => k.u8();

  it('EXP and LOG match the golden tables', () => {
    expect(mem().subarray(k.exports.gf16ExpPtr(), k.exports.gf16ExpPtr() + 131072)).toEqual(readVector('exp.u16le'));
    expect(mem().subarray(k.exports.gf16LogPtr(), k.exports.gf16LogPtr() + 131072)).toEqual(readVector('log.u16le'));
  });

  it('SKEW matches the golden table (65535 entries)', () => {
    const skew = mem().subarray(k.exports.gf16SkewPtr(), k.exports.gf16SkewPtr() + 131070);
    expect(sha256Hex(skew)).toBe('386153e81df25ed50a4be744fc292281790994bf3472076e6bed4e65463c3949');
    expect(skew).toEqual(readVector('skew.u16le'));
  });

  it("Mul128 (every row, built on first use) has the crate's SHA-256", () => {
    const p = k.exports.gf16Mul128Ptr();
    for (let m = 0; m < 65536; m++) expect(k.exports.gf16Mul128Row(m)).toBe(p + m * 128);
    expect(sha256Hex(mem().subarray(p, p + 65536 * 128))).toBe('a8bea9adc9a6cb9375ee7716fa3eac11e364611a451908aa92064ba6f6b25fe9');
  });
});
