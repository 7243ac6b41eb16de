import { describe, expect, it } from 'vitest';
import { randomBytes } from './helpers/blobs.ts';
import { blake2b } from '@noble/hashes/blake2.js';
import { WasmKernel } from '../src/wasm/kernel.ts';
import { blake2b256, leafHash, merkleRootOfLeafHashes, merkleRootOfSymbols, merkleScratchBytes } from '../src/hash/blake2b.ts';

const ref = (m: Uint8Array) => blake2b(m, { dkLen: 32 });
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Deterministic pseudo-random bytes (the shared test generator, seed scrambled). */
const bytes = (n: number, seed = 1) => randomBytes(n, Math.imul(seed, 0x9e3779b9) >>> 0 || 1);

const refLeaf = (s: Uint8Array) => ref(concat(Uint8Array.of(0), s));
const refInner = (l: Uint8Array, r: Uint8Array) => ref(concat(Uint8Array.of(1), l, r));
function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Independent reference of the Walrus Merkle root (core/merkle.rs rules). */
function refRoot(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return new Uint8Array(32);
  let level = leaves;
  while (level.length > 1) {
    if (level.length % 2 === 1) level = [...level, new Uint8Array(32)];
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(refInner(level[i], level[i + 1]));
    level = next;
  }
  return level[0];
}

describe('BLAKE2b-256 kernels', () => {
  const k = new WasmKernel();

  it('hashes the empty string to the known value', () => {
    expect(hex(blake2b256(new Uint8Array(0), k))).toBe('0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8');
  });

  it('matches noble for every length 0..300 and some large ones', () => {
    for (let n = 0; n <= 300; n++) {
      const m = bytes(n, n + 7);
      expect(hex(blake2b256(m, k)), `length ${n}`).toBe(hex(ref(m)));
    }
    for (const n of [383, 384, 385, 1000, 4096, 65535, 1 << 20]) {
      const m = bytes(n, n);
      expect(hex(blake2b256(m, k)), `length ${n}`).toBe(hex(ref(m)));
    }
  });

  it('hashLeaves64: BLAKE2b-256(0x00 ‖ 64 bytes) of each symbol, as noble gives; in place too (0…10 leaves)', () => {
    for (let count = 0; count <= 10; count++) {
      const data = bytes(count * 64, count + 101);
      const want = new Uint8Array(count * 32);
      for (let i = 0; i < count; i++) want.set(ref(Uint8Array.of(0, ...data.subarray(i * 64, i * 64 + 64))), i * 32);
      const mark = k.mark();
      try {
        const src = k.put(data);
        const out = k.alloc(Math.max(1, count) * 32);
        k.exports.hashLeaves64(src, count, out);
        expect(hex(k.u8().slice(out, out + count * 32)), `${count} leaves`).toBe(hex(want));
        k.exports.hashLeaves64(src, count, src);
        expect(hex(k.u8().slice(src, src + count * 32)), `${count} leaves in place`).toBe(hex(want));
      } finally {
        k.release(mark);
      }
    }
  });

  it('does not read past the input (input placed at the very end of memory)', () => {
    const k2 = new WasmKernel();
    for (const n of [0, 1, 5, 7, 9, 127, 128, 129, 255, 256, 300]) {
      const mark = k2.mark();
      const out = k2.alloc(32);
      k2.alloc(70_000); // filler: the input below lies past `out`, at the end of memory
      const size = k2.memory.buffer.byteLength;
      const ptr = size - n; // the last n bytes of memory
      const m = bytes(n, 3 * n + 1);
      k2.u8().set(m, ptr);
      k2.exports.blake2b256(ptr, n, out);
      expect(hex(k2.u8().slice(out, out + 32)), `length ${n}`).toBe(hex(ref(m)));
      // Walrus leaf of the same bytes at the end of memory.
      k2.exports.hashLeaves(ptr, n, 1, n, out, 32);
      expect(hex(k2.u8().slice(out, out + 32)), `leaf ${n}`).toBe(hex(refLeaf(m)));
      k2.release(mark);
    }
  });

  const sizes = [0, 1, 2, 3, 4, 6, 7, 8, 9, 62, 64, 66, 120, 126, 127, 128, 129, 130, 254, 255, 256, 302, 1206, 65534];
  it.each(sizes)('hashLeaves matches noble for symbol size %i (odd counts, strides ≠ size)', (size) => {
    for (const count of size >= 65534 ? [1, 3] : [1, 2, 3, 7, 10]) {
      const srcStride = size + 5;
      const outStride = 40;
      const mark = k.mark();
      const src = k.put(bytes(count * srcStride, size * 31 + count));
      const out = k.alloc(count * outStride);
      const sentinel = 0xa5;
      k.u8().fill(sentinel, out, out + count * outStride);
      k.exports.hashLeaves(src, size, count, srcStride, out, outStride);
      const mem = k.u8();
      for (let i = 0; i < count; i++) {
        const sym = mem.slice(src + i * srcStride, src + i * srcStride + size);
        expect(hex(mem.slice(out + i * outStride, out + i * outStride + 32)), `size ${size} count ${count} leaf ${i}`).toBe(
          hex(refLeaf(sym)),
        );
        // Bytes between outputs are untouched.
        expect([...mem.slice(out + i * outStride + 32, out + (i + 1) * outStride)].every((b) => b === sentinel)).toBe(true);
      }
      k.release(mark);
    }
  });

  it('hashLeaves ignores bytes between symbols', () => {
    const size = 6,
      count = 5,
      stride = 16;
    const a = bytes(count * stride, 9);
    const b = a.slice();
    for (let i = 0; i < count; i++) b.fill(0xff, i * stride + size, (i + 1) * stride);
    const results = [a, b].map((buf) => {
      const mark = k.mark();
      const src = k.put(buf);
      const out = k.alloc(count * 32);
      k.exports.hashLeaves(src, size, count, stride, out, 32);
      const r = hex(k.u8().slice(out, out + count * 32));
      k.release(mark);
      return r;
    });
    expect(results[0]).toBe(results[1]);
  });

  it('leafHash wrapper', () => {
    const s = bytes(76, 4);
    expect(hex(leafHash(s, k))).toBe(hex(refLeaf(s)));
  });

  it.each([0, 1, 2, 3, 4, 5, 8, 33])('hashInnerNodes matches noble (count %i), also in place', (count) => {
    const mark = k.mark();
    const data = bytes(count * 64, count + 100);
    const src = k.put(data);
    const out = k.alloc(count * 32 + 32);
    k.u8().fill(0x5a, out, out + count * 32 + 32);
    k.exports.hashInnerNodes(src, count, out);
    const expected = Array.from({ length: count }, (_, i) =>
      hex(refInner(data.subarray(64 * i, 64 * i + 32), data.subarray(64 * i + 32, 64 * i + 64))),
    ).join('');
    expect(hex(k.u8().slice(out, out + count * 32))).toBe(expected);
    expect(hex(k.u8().slice(out + count * 32, out + count * 32 + 32))).toBe('5a'.repeat(32));
    // In place: out == src.
    k.exports.hashInnerNodes(src, count, src);
    expect(hex(k.u8().slice(src, src + count * 32))).toBe(expected);
    expect(hex(k.u8().slice(src + count * 32, src + count * 64))).toBe(hex(data.subarray(count * 32)));
    k.release(mark);
  });

  const counts = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 100, 1000];
  it.each(counts)('merkleRoot matches the reference for %i leaves (strides 32, 48, 32·n)', (count) => {
    const leaves = Array.from({ length: count }, (_, i) => refLeaf(bytes(6, i + 1)));
    const expected = hex(refRoot(leaves));
    for (const stride of [32, 48, 32 * 7]) {
      const mark = k.mark();
      const base = k.alloc(Math.max(1, count) * stride);
      for (let i = 0; i < count; i++) k.u8().set(leaves[i], base + i * stride);
      const scratch = k.alloc(merkleScratchBytes(count) + 32);
      const guard = scratch + merkleScratchBytes(count);
      k.u8().fill(0x77, guard, guard + 32);
      const out = k.alloc(32);
      k.exports.merkleRoot(base, count, stride, scratch, out);
      expect(hex(k.u8().slice(out, out + 32)), `stride ${stride}`).toBe(expected);
      expect(hex(k.u8().slice(guard, guard + 32)), 'scratch overrun').toBe('77'.repeat(32));
      // out == scratch is allowed.
      k.exports.merkleRoot(base, count, stride, scratch, scratch);
      if (count > 0) expect(hex(k.u8().slice(scratch, scratch + 32))).toBe(expected);
      k.release(mark);
    }
    expect(hex(merkleRootOfLeafHashes(concat(...leaves), k))).toBe(expected);
  });

  it('merkleRoot of one leaf is the leaf digest; of none is zero', () => {
    const d = refLeaf(Uint8Array.of(1, 2));
    expect(hex(merkleRootOfLeafHashes(d, k))).toBe(hex(d));
    expect(hex(merkleRootOfLeafHashes(new Uint8Array(0), k))).toBe('00'.repeat(32));
    expect(() => merkleRootOfLeafHashes(new Uint8Array(33), k)).toThrow(RangeError);
  });

  it('merkleRootOfSymbols', () => {
    const syms = Array.from({ length: 11 }, (_, i) => bytes(i * 13, i));
    expect(hex(merkleRootOfSymbols(syms, k))).toBe(hex(refRoot(syms.map(refLeaf))));
  });

  it('merkleRoots over rows and columns of a leaf-digest matrix', () => {
    const n = 13;
    const leaves = Array.from({ length: n * n }, (_, i) => refLeaf(bytes(6, i + 50)));
    const mark = k.mark();
    const base = k.put(concat(...leaves));
    const scratch = k.alloc(merkleScratchBytes(n));
    const rows = k.alloc(n * 32);
    const cols = k.alloc(n * 32);
    k.exports.merkleRoots(base, n, 32, n, 32 * n, scratch, rows);
    k.exports.merkleRoots(base, n, 32 * n, n, 32, scratch, cols);
    const mem = k.u8();
    for (let t = 0; t < n; t++) {
      const row = leaves.slice(t * n, t * n + n);
      const col = Array.from({ length: n }, (_, i) => leaves[i * n + t]);
      expect(hex(mem.slice(rows + 32 * t, rows + 32 * t + 32)), `row ${t}`).toBe(hex(refRoot(row)));
      expect(hex(mem.slice(cols + 32 * t, cols + 32 * t + 32)), `col ${t}`).toBe(hex(refRoot(col)));
    }
    k.release(mark);
  });
});
