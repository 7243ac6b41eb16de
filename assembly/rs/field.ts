// The two fields the additive-FFT Reed–Solomon engine runs over. The algorithm (rs/fft.ts,
// rs/encode.ts, rs/decode.ts) is written once, generic over a field type F; each field supplies
// its order, skew table, LOG_WALSH table, FWHT and shard kernels.
//
// Dispatch is static: generic code calls methods on `changetype<F>(0)`, a never-allocated
// "instance" whose methods do not touch `this`, so every call resolves at compile time and can
// be inlined (AssemblyScript has no static members on type parameters).

import { skewAt, addMod, subMod } from '../gf16/tables';
import { fftButterfly, ifftButterfly, mulInPlace } from '../gf16/kernels';
import { skew8At, addMod8, subMod8, logWalsh8Ptr, fwht8 } from '../gf8/tables';
import { fftButterfly8, ifftButterfly8, mulInPlace8 } from '../gf8/kernels';
import { fwht16, logWalsh16Ptr } from './fwht16';

/** GF(2^16), reed-solomon-simd's field (Walrus RS2). Shards: 64-byte blocks of 32 low + 32 high bytes. */
export class GF16 {
  // @ts-ignore: decorator
  @inline order(): u32 {
    return 65536;
  }
  // @ts-ignore: decorator
  @inline modulus(): u32 {
    return 65535;
  }
  // @ts-ignore: decorator
  @inline skew(i: u32): u32 {
    return skewAt(i);
  }
  // @ts-ignore: decorator
  @inline logWalsh(i: u32): u32 {
    return <u32>load<u16>(logWalsh16Ptr + ((<usize>i) << 1));
  }
  // @ts-ignore: decorator
  @inline addMod(a: u32, b: u32): u32 {
    return addMod(a, b);
  }
  // @ts-ignore: decorator
  @inline subMod(a: u32, b: u32): u32 {
    return subMod(a, b);
  }
  // @ts-ignore: decorator
  @inline fwht(data: usize): void {
    fwht16(data);
  }
  // @ts-ignore: decorator
  @inline fftButterfly(x: usize, y: usize, bytes: usize, m: u32): void {
    fftButterfly(x, y, bytes, m);
  }
  // @ts-ignore: decorator
  @inline ifftButterfly(x: usize, y: usize, bytes: usize, m: u32): void {
    ifftButterfly(x, y, bytes, m);
  }
  // @ts-ignore: decorator
  @inline mulInPlace(x: usize, bytes: usize, m: u32): void {
    mulInPlace(x, bytes, m);
  }
}

/** GF(2^8), Leopard's 8-bit field (Tusk RS8). Shards: plain bytes, one element each. */
export class GF8 {
  // @ts-ignore: decorator
  @inline order(): u32 {
    return 256;
  }
  // @ts-ignore: decorator
  @inline modulus(): u32 {
    return 255;
  }
  // @ts-ignore: decorator
  @inline skew(i: u32): u32 {
    return skew8At(i);
  }
  // @ts-ignore: decorator
  @inline logWalsh(i: u32): u32 {
    return <u32>load<u16>(logWalsh8Ptr + ((<usize>i) << 1));
  }
  // @ts-ignore: decorator
  @inline addMod(a: u32, b: u32): u32 {
    return addMod8(a, b);
  }
  // @ts-ignore: decorator
  @inline subMod(a: u32, b: u32): u32 {
    return subMod8(a, b);
  }
  // @ts-ignore: decorator
  @inline fwht(data: usize): void {
    fwht8(data);
  }
  // @ts-ignore: decorator
  @inline fftButterfly(x: usize, y: usize, bytes: usize, m: u32): void {
    fftButterfly8(x, y, bytes, m);
  }
  // @ts-ignore: decorator
  @inline ifftButterfly(x: usize, y: usize, bytes: usize, m: u32): void {
    ifftButterfly8(x, y, bytes, m);
  }
  // @ts-ignore: decorator
  @inline mulInPlace(x: usize, bytes: usize, m: u32): void {
    mulInPlace8(x, bytes, m);
  }
}
