import { describe, expect, it } from 'vitest';
import { readUleb, ulebLength, writeUleb } from '../src/codec/bcs.ts';
import { TuskInputError } from '../src/errors.ts';

describe('BCS ULEB128', () => {
  it('round-trips canonical values up to u32::MAX', () => {
    for (const v of [0, 1, 127, 128, 16_383, 16_384, 43_711_178, 0xffffffff]) {
      const buf = new Uint8Array(ulebLength(v));
      expect(writeUleb(buf, 0, v)).toBe(buf.length);
      expect(readUleb(buf, 0)).toEqual({ value: v, next: buf.length });
    }
  });

  it('rejects what the Rust bcs crate rejects: non-canonical, over u32, truncated', () => {
    for (const bad of [[0x80, 0x00], [0xff, 0x00], [0x80, 0x80, 0x80, 0x80, 0x10], [0xff, 0xff, 0xff, 0xff, 0xff, 0x01], [0x80]]) {
      expect(() => readUleb(Uint8Array.from(bad), 0), JSON.stringify(bad)).toThrow(TuskInputError);
    }
  });
});
