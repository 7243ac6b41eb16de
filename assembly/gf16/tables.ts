// GF(2^16) tables exactly as reed-solomon-simd 3.1 builds them (shared/spec/reed-solomon.md §1.2–§1.4, §5.1).
//
// Element values are Cantor-basis coordinates; LOG/EXP hide the change of basis. Layout of the table
// region the host hands to gf16Init (all offsets from `base`, 64-byte aligned):
//   EXP    65536 × u16   (EXP[65535] = EXP[0] = 1)
//   LOG    65536 × u16   (LOG[0] = 65535)
//   SKEW   65536 × u16   (65535 used entries + 1 pad)
//   MUL128 65536 × 128 B nibble product tables lo[0..3], hi[0..3] per log_m (8 MiB), each row
//          built on first use (mul128Row): an encode uses a few thousand multipliers, and building
//          all 8 MiB up front cost every process ~50 ms of CPU plus the first touch of 8 MiB
//   BUILT  65536 bits: row log_m of MUL128 is built (set atomically after the row is written)
// Kernels read them through the pointers below; nothing here allocates.

export const GF_BITS: i32 = 16;
export const GF_ORDER: i32 = 65536;
export const GF_MODULUS: i32 = 65535;

const TABLE_U16_BYTES: usize = 65536 * 2;
const MUL128_BYTES: usize = 65536 * 128;

export let expPtr: usize = 0;
export let logPtr: usize = 0;
export let skewPtr: usize = 0;
export let mul128Ptr: usize = 0;
export let builtPtr: usize = 0;
const BUILT_BYTES: usize = 65536 / 8;

// @ts-ignore: decorator
@inline export function expAt(i: u32): u32 {
  return <u32>load<u16>(expPtr + (<usize>i << 1));
}

// @ts-ignore: decorator
@inline export function logAt(i: u32): u32 {
  return <u32>load<u16>(logPtr + (<usize>i << 1));
}

// @ts-ignore: decorator
@inline export function skewAt(i: u32): u32 {
  return <u32>load<u16>(skewPtr + (<usize>i << 1));
}

/** Partial reduction mod 65535 of a + b (result 0…65535; 65535 is another zero). */
// @ts-ignore: decorator
@inline export function addMod(a: u32, b: u32): u32 {
  const s = a + b;
  return (s + (s >> 16)) & 0xffff;
}

/** Partial reduction mod 65535 of a − b (32-bit wrapping difference). */
// @ts-ignore: decorator
@inline export function subMod(a: u32, b: u32): u32 {
  const d = a - b;
  return (d + (d >> 16)) & 0xffff;
}

/** x · m where m is given as a logarithm; mul(0, ·) = 0, log 0 and 65535 both mean "times one". */
// @ts-ignore: decorator
@inline export function mul(x: u32, logM: u32): u32 {
  return x == 0 ? 0 : expAt(addMod(logAt(x), logM));
}

const CANTOR_BASIS: StaticArray<u16> = [
  0x0001, 0xacca, 0x3c0e, 0x163e, 0xc582, 0xed2e, 0x914c, 0x4012,
  0x6c98, 0x10d8, 0x6a72, 0xb900, 0xfdb8, 0xfb34, 0xff38, 0x991e,
];

/** Bytes the host must reserve for gf16Init. */
export function gf16TableBytes(): usize {
  return 3 * TABLE_U16_BYTES + MUL128_BYTES + BUILT_BYTES;
}

/**
 * The Mul128 row of multiplier log_m (128 bytes), built on first use. Threads sharing the memory
 * may race to build the same row: they write identical bytes, and a thread that sees the row's
 * BUILT bit (seq-cst atomic, set after the row's stores) sees the row.
 */
// @ts-ignore: decorator
@inline export function mul128Row(logM: u32): usize {
  const word = builtPtr + (<usize>(logM >> 5) << 2);
  const bit: u32 = 1 << (logM & 31);
  if ((atomic.load<u32>(word) & bit) == 0) buildMul128Row(logM, word, bit);
  return mul128Ptr + (<usize>logM << 7);
}

/** Exported mul128Row (tests: every row against the crate's table). */
export function gf16Mul128Row(logM: u32): usize {
  return mul128Row(logM);
}

export function gf16ExpPtr(): usize { return expPtr; }
export function gf16LogPtr(): usize { return logPtr; }
export function gf16SkewPtr(): usize { return skewPtr; }
export function gf16Mul128Ptr(): usize { return mul128Ptr; }

/**
 * Points the kernels at tables already present at `base` (e.g. copied byte for byte from another
 * instance's gf16Init region), without rebuilding them.
 */
export function gf16Attach(base: usize): void {
  expPtr = base;
  logPtr = base + TABLE_U16_BYTES;
  skewPtr = base + 2 * TABLE_U16_BYTES;
  mul128Ptr = base + 3 * TABLE_U16_BYTES;
  builtPtr = mul128Ptr + MUL128_BYTES;
}

/** Builds every GF(2^16) table at `base` (gf16TableBytes() bytes, 64-aligned, host-owned). */
export function gf16Init(base: usize): void {
  gf16Attach(base);
  memory.fill(builtPtr, 0, BUILT_BYTES);
  initExpLog();
  initSkew();
}

function initExpLog(): void {
  // 1. LFSR pass: "EXP" first holds the discrete log of each polynomial-basis value.
  let state: u32 = 1;
  for (let i: u32 = 0; i < 65535; i++) {
    store<u16>(expPtr + (<usize>state << 1), <u16>i);
    state <<= 1;
    if (state >= 65536) state ^= 0x1002d;
  }
  store<u16>(expPtr, 65535);
  // 2. Cantor-basis enumeration into LOG: LOG[c] = polynomial-basis value of Cantor coordinates c.
  store<u16>(logPtr, 0);
  for (let i: u32 = 0; i < 16; i++) {
    const w: u32 = 1 << i;
    const b: u32 = <u32>unchecked(CANTOR_BASIS[i]);
    for (let j: u32 = 0; j < w; j++) {
      store<u16>(logPtr + (<usize>(j + w) << 1), <u16>(logAt(j) ^ b));
    }
  }
  // 3. Compose: LOG becomes the real log indexed by Cantor coordinates.
  for (let c: u32 = 0; c < 65536; c++) {
    store<u16>(logPtr + (<usize>c << 1), <u16>expAt(logAt(c)));
  }
  // 4. Invert, 5. wrap entry.
  for (let c: u32 = 0; c < 65536; c++) {
    store<u16>(expPtr + (<usize>logAt(c) << 1), <u16>c);
  }
  store<u16>(expPtr + (65535 << 1), <u16>expAt(0));
}

function initSkew(): void {
  // SKEW must start zeroed: entry 32767 is never written and becomes LOG[0] = 65535.
  memory.fill(skewPtr, 0, TABLE_U16_BYTES);
  // temp[0..14] borrows the start of the Mul128 region, which initMul128 overwrites afterwards
  // (a `new StaticArray` would be a runtime allocation inside host-owned memory).
  const temp = mul128Ptr;
  for (let i: i32 = 1; i < 16; i++) {
    store<u16>(temp + (<usize>(i - 1) << 1), <u16>(<u32>1 << <u32>i));
  }
  for (let m: i32 = 0; m < 15; m++) {
    const step: i32 = 1 << (m + 1);
    store<u16>(skewPtr + (<usize>((1 << m) - 1) << 1), 0);
    for (let i: i32 = m; i < 15; i++) {
      const s: i32 = 1 << (i + 1);
      const t: u32 = <u32>load<u16>(temp + (<usize>i << 1));
      for (let j: i32 = (1 << m) - 1; j < s; j += step) {
        store<u16>(skewPtr + (<usize>(j + s) << 1), <u16>(skewAt(<u32>j) ^ t));
      }
    }
    const tm: u32 = <u32>load<u16>(temp + (<usize>m << 1));
    const tmNew: u32 = 65535 - logAt(mul(tm, logAt(tm ^ 1)));
    store<u16>(temp + (<usize>m << 1), <u16>tmNew);
    for (let i: i32 = m + 1; i < 15; i++) {
      const ti: u32 = <u32>load<u16>(temp + (<usize>i << 1));
      store<u16>(temp + (<usize>i << 1), <u16>mul(ti, addMod(logAt(ti ^ 1), tmNew)));
    }
  }
  for (let i: u32 = 0; i < 65535; i++) {
    store<u16>(skewPtr + (<usize>i << 1), <u16>logAt(skewAt(i)));
  }
  store<u16>(skewPtr + (65535 << 1), 65535);
}


function buildMul128Row(m: u32, word: usize, bit: u32): void {
  // Row for log_m: lo[n][x], hi[n][x] = low/high byte of mul(x << 4n, log_m), n = 0…3, x = 0…15.
  const row = mul128Ptr + (<usize>m << 7);
  for (let n: u32 = 0; n < 4; n++) {
    for (let x: u32 = 0; x < 16; x++) {
      const p = mul(x << (n << 2), m);
      store<u8>(row + (n << 4) + x, <u8>p);
      store<u8>(row + 64 + (n << 4) + x, <u8>(p >> 8));
    }
  }
  atomic.or<u32>(word, bit);
}
