// Message words of the BLAKE2b kernels (blake2b.ts, and the generated blake2b-compress.ts).
//
// A message is `pl` prefix bytes (pl = 0, or pl = 1 with byte value `prefix`)
// followed by data[0..len). Word at message offset o (a multiple of 8) is message bytes
// [o, o+8) little-endian, zero past the end of the message.

/** n < 8 bytes at p, little-endian, zero-extended; reads exactly [p, p+n). */
// @ts-ignore: decorator
@inline export function loadSmall(p: usize, n: usize): u64 {
  let v: u64 = 0;
  if (n & 4) v = <u64>load<u32>(p);
  if (n & 2) v |= <u64>load<u16>(p + (n & 4)) << (<u64>(n & 4) << 3);
  if (n & 1) v |= <u64>load<u8>(p + (n & 6)) << (<u64>(n & 6) << 3);
  return v;
}

/** data[s..len) as a word, for 0 < len - s < 8; reads only inside data[0..len). */
// @ts-ignore: decorator
@inline export function loadTail(src: usize, s: usize, len: usize): u64 {
  const n = len - s;
  if (len >= 8) return load<u64>(src + len - 8) >> (<u64>(8 - n) << 3);
  return loadSmall(src + s, n);
}

/** Message word at message offset o (see above). */
// @ts-ignore: decorator
@inline export function msgWord(src: usize, len: usize, pl: usize, prefix: u64, o: usize): u64 {
  if (pl != 0 && o == 0) {
    // prefix byte, then data[0..min(len, 7)).
    const head = len >= 8 ? load<u64>(src) & 0x00ffffffffffffff : loadSmall(src, len < 7 ? len : 7);
    return prefix | (head << 8);
  }
  const s = o - pl;
  if (s + 8 <= len) return load<u64>(src + s);
  if (s >= len) return 0;
  return loadTail(src, s, len);
}

/** Word at offset o of two messages with the same length, as (lane 0, lane 1). */
// @ts-ignore: decorator
@inline export function msgWord2(a: usize, b: usize, len: usize, pl: usize, prefix: u64, o: usize): v128 {
  const s = o - pl;
  if ((pl == 0 || o != 0) && s + 8 <= len) return v128.load64_lane(b + s, v128.load64_zero(a + s), 1);
  return i64x2.replace_lane(i64x2.splat(msgWord(a, len, pl, prefix, o)), 1, msgWord(b, len, pl, prefix, o));
}

