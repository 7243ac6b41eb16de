import { describe, expect, it } from 'vitest';
import { decodeChainJson, encodeChainJson } from '../../src/chain/json.ts';

describe('chain JSON codec', () => {
  it('round-trips bigint and bytes, nested', () => {
    const v = { a: 10n ** 30n, b: [new Uint8Array([0, 255, 16]), -5n], c: 'x', d: 1.5, e: null, f: { g: Buffer.from('hi') } };
    const back = decodeChainJson(encodeChainJson(v)) as typeof v;
    expect(back.a).toBe(10n ** 30n);
    expect(back.b[0]).toEqual(new Uint8Array([0, 255, 16]));
    expect(back.b[1]).toBe(-5n);
    expect(back.f.g).toEqual(new Uint8Array(Buffer.from('hi')));
    expect(back.d).toBe(1.5);
  });
  it('rejects malformed tags and non-finite numbers', () => {
    expect(() => decodeChainJson('{"$bigint":"1.5"}')).toThrow(/bigint/);
    expect(() => decodeChainJson('{"$bytes":"abc"}')).toThrow(/bytes/);
    expect(() => encodeChainJson({ x: Infinity })).toThrow(/non-finite/);
  });
});
