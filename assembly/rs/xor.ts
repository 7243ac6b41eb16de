// x ^= y over `bytes` bytes (a multiple of 64): addition in any GF(2^m), layout-independent.

export function xorInto(x: usize, y: usize, bytes: usize): void {
  const end = x + bytes;
  if (ASC_FEATURE_SIMD) {
    for (; x < end; x += 64, y += 64) {
      v128.store(x, v128.xor(v128.load(x), v128.load(y)));
      v128.store(x, v128.xor(v128.load(x, 16), v128.load(y, 16)), 16);
      v128.store(x, v128.xor(v128.load(x, 32), v128.load(y, 32)), 32);
      v128.store(x, v128.xor(v128.load(x, 48), v128.load(y, 48)), 48);
    }
  } else {
    for (; x < end; x += 32, y += 32) {
      store<u64>(x, load<u64>(x) ^ load<u64>(y));
      store<u64>(x, load<u64>(x, 8) ^ load<u64>(y, 8), 8);
      store<u64>(x, load<u64>(x, 16) ^ load<u64>(y, 16), 16);
      store<u64>(x, load<u64>(x, 24) ^ load<u64>(y, 24), 24);
    }
  }
}
