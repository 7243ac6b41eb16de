/**
 * A JSON codec that keeps the chain's value types intact across processes: `bigint` becomes
 * `{"$bigint":"<decimal>"}` and `Uint8Array` becomes `{"$bytes":"<hex>"}`. Used for transaction
 * payloads (so the signed bytes are plain UTF-8 JSON anyone can read) and for the chain server's
 * responses. Plain JSON has neither type, and silently turning FROST amounts into floats is the
 * one mistake the chain must never make.
 */
import { TuskInputError } from '../errors.ts';

const HEX = /^[0-9a-f]*$/;

/** Serializes `value` (objects, arrays, strings, finite numbers, booleans, null, bigint, bytes). */
export function encodeChainJson(value: unknown): string {
  return JSON.stringify(value, function (this: unknown, key: string, v: unknown) {
    // JSON.stringify calls toJSON before the replacer, so read the raw value from the holder.
    const raw = (this as Record<string, unknown>)[key];
    if (typeof raw === 'bigint') return { $bigint: raw.toString() };
    if (raw instanceof Uint8Array) return { $bytes: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('hex') };
    if (typeof v === 'number' && !Number.isFinite(v)) throw new TuskInputError(`chain JSON: non-finite number at "${key}"`);
    return v;
  });
}

/** Parses text produced by `encodeChainJson`, restoring `bigint`s and `Uint8Array`s. */
export function decodeChainJson(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v);
      if (keys.length === 1 && keys[0] === '$bigint') {
        const s = (v as { $bigint: unknown }).$bigint;
        if (typeof s !== 'string' || !/^-?[0-9]+$/.test(s)) throw new TuskInputError('chain JSON: malformed $bigint');
        return BigInt(s);
      }
      if (keys.length === 1 && keys[0] === '$bytes') {
        const s = (v as { $bytes: unknown }).$bytes;
        if (typeof s !== 'string' || s.length % 2 !== 0 || !HEX.test(s)) throw new TuskInputError('chain JSON: malformed $bytes');
        return new Uint8Array(Buffer.from(s, 'hex'));
      }
    }
    return v;
  });
}
