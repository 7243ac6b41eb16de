// GF(2^8) tables of Leopard's 8-bit additive-FFT code (shared/spec/reed-solomon.md §1.6): the same
// five-step construction as GF(2^16) with polynomial 0x11D and an 8-vector Cantor basis.
//
// Layout of the region the host hands to gf8Init (offsets from `base`):
//   EXP 256 B, LOG 256 B, SKEW 256 B (255 used), LOG_WALSH 256 × u16, MUL 256 × 32 B
// MUL entry for log_m: lo[x] = mul(x, log_m) then hi[x] = mul(x << 4, log_m), x = 0…15, so the
// product of a byte v is lo[v & 15] ^ hi[v >> 4].

export let exp8Ptr: usize = 0;
export let log8Ptr: usize = 0;
export let skew8Ptr: usize = 0;
export let logWalsh8Ptr: usize = 0;
export let mul8Ptr: usize = 0;

// @ts-ignore: decorator
@inline export function exp8At(i: u32): u32 { return <u32>load<u8>(exp8Ptr + i); }
// @ts-ignore: decorator
@inline export function log8At(i: u32): u32 { return <u32>load<u8>(log8Ptr + i); }
// @ts-ignore: decorator
@inline export function skew8At(i: u32): u32 { return <u32>load<u8>(skew8Ptr + i); }

/** Partial reduction mod 255 of a + b (0…255; 255 is another zero). */
// @ts-ignore: decorator
@inline export function addMod8(a: u32, b: u32): u32 {
  const s = a + b;
  return (s + (s >> 8)) & 0xff;
}

/** Partial reduction mod 255 of a − b. */
// @ts-ignore: decorator
@inline export function subMod8(a: u32, b: u32): u32 {
  const d = a - b;
  return (d + (d >> 8)) & 0xff;
}

/** x · m with m a logarithm; mul8(0, ·) = 0. */
// @ts-ignore: decorator
@inline export function mul8(x: u32, logM: u32): u32 {
  return x == 0 ? 0 : exp8At(addMod8(log8At(x), logM));
}

const CANTOR_BASIS_8: StaticArray<u8> = [1, 214, 152, 146, 86, 200, 88, 230];

/** Bytes the host must reserve for gf8Init. */
export function gf8TableBytes(): usize {
  return 256 * 3 + 512 + 256 * 32;
}

export function gf8ExpPtr(): usize { return exp8Ptr; }
export function gf8LogPtr(): usize { return log8Ptr; }
export function gf8SkewPtr(): usize { return skew8Ptr; }

/** Points the kernels at GF(2^8) tables already present at `base` (copied from another instance). */
export function gf8Attach(base: usize): void {
  exp8Ptr = base;
  log8Ptr = base + 256;
  skew8Ptr = base + 512;
  logWalsh8Ptr = base + 768;
  mul8Ptr = base + 768 + 512;
}

/** Builds every GF(2^8) table at `base` (gf8TableBytes() bytes, host-owned). */
export function gf8Init(base: usize): void {
  gf8Attach(base);
  // 1. LFSR pass ("EXP" first holds discrete logs of polynomial-basis values).
  let state: u32 = 1;
  for (let i: u32 = 0; i < 255; i++) {
    store<u8>(exp8Ptr + state, <u8>i);
    state <<= 1;
    if (state >= 256) state ^= 0x11d;
  }
  store<u8>(exp8Ptr, 255);
  // 2. Cantor-basis enumeration, 3. compose, 4. invert, 5. wrap entry.
  store<u8>(log8Ptr, 0);
  for (let i: u32 = 0; i < 8; i++) {
    const w: u32 = 1 << i;
    for (let j: u32 = 0; j < w; j++) store<u8>(log8Ptr + j + w, <u8>(log8At(j) ^ <u32>CANTOR_BASIS_8[i]));
  }
  for (let c: u32 = 0; c < 256; c++) store<u8>(log8Ptr + c, <u8>exp8At(log8At(c)));
  for (let c: u32 = 0; c < 256; c++) store<u8>(exp8Ptr + log8At(c), <u8>c);
  store<u8>(exp8Ptr + 255, <u8>exp8At(0));
  initSkew8();
  initMul8();
  // LOG_WALSH: LOG with entry 0 zeroed, then the FWHT mod 255.
  for (let i: u32 = 0; i < 256; i++) store<u16>(logWalsh8Ptr + (<usize>i << 1), <u16>log8At(i));
  store<u16>(logWalsh8Ptr, 0);
  fwht8(logWalsh8Ptr);
}

function initSkew8(): void {
  memory.fill(skew8Ptr, 0, 256);
  // temp[0..6] borrows the start of the MUL region, which initMul8 overwrites afterwards.
  const temp = mul8Ptr;
  for (let i: u32 = 1; i < 8; i++) store<u8>(temp + i - 1, <u8>(<u32>1 << i));
  for (let m: u32 = 0; m < 7; m++) {
    const step: u32 = 1 << (m + 1);
    store<u8>(skew8Ptr + (1 << m) - 1, 0);
    for (let i: u32 = m; i < 7; i++) {
      const s: u32 = 1 << (i + 1);
      const t = <u32>load<u8>(temp + i);
      for (let j: u32 = (1 << m) - 1; j < s; j += step) store<u8>(skew8Ptr + j + s, <u8>(skew8At(j) ^ t));
    }
    const tm = <u32>load<u8>(temp + m);
    const tmNew: u32 = 255 - log8At(mul8(tm, log8At(tm ^ 1)));
    store<u8>(temp + m, <u8>tmNew);
    for (let i: u32 = m + 1; i < 7; i++) {
      const ti = <u32>load<u8>(temp + i);
      store<u8>(temp + i, <u8>mul8(ti, addMod8(log8At(ti ^ 1), tmNew)));
    }
  }
  for (let i: u32 = 0; i < 255; i++) store<u8>(skew8Ptr + i, <u8>log8At(skew8At(i)));
  store<u8>(skew8Ptr + 255, 255);
}

function initMul8(): void {
  for (let m: u32 = 0; m < 256; m++) {
    const row = mul8Ptr + (<usize>m << 5);
    for (let x: u32 = 0; x < 16; x++) {
      store<u8>(row + x, <u8>mul8(x, m));
      store<u8>(row + 16 + x, <u8>mul8(x << 4, m));
    }
  }
}

/** In-place Walsh–Hadamard transform mod 255 over 256 u16 values (scalar: 2 K operations). */
export function fwht8(data: usize): void {
  for (let dist: u32 = 1; dist < 256; dist <<= 1) {
    for (let r: u32 = 0; r < 256; r += dist << 1) {
      for (let i: u32 = r; i < r + dist; i++) {
        const pa = data + (<usize>i << 1);
        const pb = pa + (<usize>dist << 1);
        const a = <u32>load<u16>(pa), b = <u32>load<u16>(pb);
        store<u16>(pa, <u16>addMod8(a, b));
        store<u16>(pb, <u16>subMod8(a, b));
      }
    }
  }
}
