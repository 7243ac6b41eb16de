// Node script, not AssemblyScript: regenerates assembly/hash/blake2b-compress.ts.
//
//   npm run gen:blake2b   (node scripts/gen-blake2b-compress.ts; `--stdout` prints instead of writing)
//
// The BLAKE2b compression function F (RFC 7693 §3.2) is emitted fully unrolled (12 rounds × 8 G)
// over local variables, because AssemblyScript cannot pass locals by reference and a round loop
// with a message-schedule table would keep the state in memory. Variants differ in which message
// words are present (absent words are zero and their additions are simply not emitted) and in
// whether the block is the first-and-last one of a message (state = parameter-block IV, digest
// stored directly) or a chained block (state in module globals).
import { writeFileSync } from 'node:fs';

const SIGMA = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
  [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
  [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
  [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
  [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
  [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
  [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
  [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
  [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
  [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
];

// Column step then diagonal step (RFC 7693 §3.2).
const G_ARGS = [
  [0, 4, 8, 12],
  [1, 5, 9, 13],
  [2, 6, 10, 14],
  [3, 7, 11, 15],
  [0, 5, 10, 15],
  [1, 6, 11, 12],
  [2, 7, 8, 13],
  [3, 4, 9, 14],
];

type Flavor = 'scalar' | 'simd';

function add(f: Flavor, a: string, b: string): string {
  return f === 'scalar' ? `${a} + ${b}` : `i64x2.add(${a}, ${b})`;
}

/** Emits the 12 rounds; `words` is the set of message words that may be non-zero. */
function rounds(f: Flavor, words: Set<number>): string[] {
  const out: string[] = [];
  const ror = (x: string, n: number) => (f === 'scalar' ? `rotr<u64>(${x}, ${n})` : `ror${n}(${x})`);
  const xor = (a: string, b: string) => (f === 'scalar' ? `${a} ^ ${b}` : `v128.xor(${a}, ${b})`);
  for (let r = 0; r < 12; r++) {
    const s = SIGMA[r % 10];
    out.push(`  // round ${r}`);
    const half = (i: number, x: number, r1: number, r2: number) => {
      const [a, b, c, d] = G_ARGS[i].map((j) => `v${j}`);
      let sum = add(f, a, b);
      if (words.has(x)) sum = add(f, sum, `m${x}`);
      return `  ${a} = ${sum}; ${d} = ${ror(xor(d, a), r1)}; ` + `${c} = ${add(f, c, d)}; ${b} = ${ror(xor(b, c), r2)};`;
    };
    // G's in order; interleaving the four independent G's of a step measured the same.
    for (let i = 0; i < 8; i++) {
      out.push(half(i, s[2 * i], 32, 24));
      out.push(half(i, s[2 * i + 1], 16, 63));
    }
  }
  return out;
}

const IV = ['IV0', 'IV1', 'IV2', 'IV3', 'IV4', 'IV5', 'IV6', 'IV7'];
/** Initial chaining value of BLAKE2b-256 without key: IV with h0 ^= 0x01010020. */
const H_INIT = ['P0', 'IV1', 'IV2', 'IV3', 'IV4', 'IV5', 'IV6', 'IV7'];

function fn(f: Flavor, nWords: number, single: boolean): string {
  const words = new Set(Array.from({ length: nWords }, (_, i) => i));
  const T = f === 'scalar' ? 'u64' : 'v128';
  const name = `${f === 'scalar' ? 'compress' : 'compress2x'}${single ? 'Single' : 'Chained'}${nWords}`;
  const mParams = Array.from({ length: nWords }, (_, i) => `m${i}: ${T}`).join(', ');
  const lines: string[] = [];
  const c = (x: string) => (f === 'scalar' ? x : `i64x2.splat(${x})`);
  if (f === 'scalar') {
    if (single) {
      lines.push(
        `/** F on the only block of a message: chaining value = BLAKE2b-256 IV, digest (32 bytes) stored at outPtr. Words m${nWords}..m15 are zero. */`,
      );
      lines.push(`// @ts-ignore: decorator`);
      lines.push(`@inline export function ${name}(outPtr: usize, t: u64, ${mParams}): void {`);
      for (let i = 0; i < 8; i++) lines.push(`  let v${i}: u64 = ${H_INIT[i]};`);
    } else {
      lines.push(
        `/** F on a block of a chained message: h = H0..H7 (module globals, updated); t = bytes so far; f = ~0 on the last block. */`,
      );
      lines.push(`// @ts-ignore: decorator`);
      lines.push(`@inline export function ${name}(t: u64, f: u64, ${mParams}): void {`);
      for (let i = 0; i < 8; i++) lines.push(`  let v${i}: u64 = H${i};`);
    }
  } else {
    if (single) {
      lines.push(
        `/** Two independent messages (lane 0 → outA, lane 1 → outB), each a single block of t bytes. Words m${nWords}..m15 are zero. */`,
      );
      lines.push(`// @ts-ignore: decorator`);
      lines.push(`@inline export function ${name}(outA: usize, outB: usize, t: u64, ${mParams}): void {`);
      for (let i = 0; i < 8; i++) lines.push(`  let v${i}: v128 = i64x2.splat(${H_INIT[i]});`);
    } else {
      lines.push(`/** Two chained messages in lock-step: lane 0 state HA0..HA7, lane 1 state HB0..HB7 (module globals, updated). */`);
      lines.push(`// @ts-ignore: decorator`);
      lines.push(`@inline export function ${name}(t: u64, f: u64, ${mParams}): void {`);
      for (let i = 0; i < 8; i++) lines.push(`  let v${i}: v128 = i64x2.replace_lane(i64x2.splat(HA${i}), 1, HB${i});`);
    }
  }
  if (!single || f === 'simd') for (let i = 0; i < 8; i++) lines.push(`  const h${i} = v${i};`);
  for (let i = 0; i < 8; i++) {
    let init = IV[i];
    if (i === 4) init = `IV4 ^ t`;
    if (i === 6) init = single ? `~IV6` : `IV6 ^ f`;
    lines.push(`  let v${i + 8}: ${T} = ${c(init)};`);
  }
  lines.push(...rounds(f, words));
  if (f === 'scalar') {
    if (single) {
      for (let i = 0; i < 4; i++) lines.push(`  store<u64>(outPtr, ${H_INIT[i]} ^ v${i} ^ v${i + 8}, ${8 * i});`);
    } else {
      for (let i = 0; i < 8; i++) lines.push(`  H${i} = h${i} ^ v${i} ^ v${i + 8};`);
    }
  } else {
    if (single) {
      for (let i = 0; i < 4; i++) lines.push(`  const x${i} = v128.xor(v128.xor(h${i}, v${i}), v${i + 8});`);
      lines.push(`  v128.store(outA, i64x2.shuffle(x0, x1, 0, 2));`);
      lines.push(`  v128.store(outA, i64x2.shuffle(x2, x3, 0, 2), 16);`);
      lines.push(`  v128.store(outB, i64x2.shuffle(x0, x1, 1, 3));`);
      lines.push(`  v128.store(outB, i64x2.shuffle(x2, x3, 1, 3), 16);`);
    } else {
      for (let i = 0; i < 8; i++) {
        lines.push(`  const x${i} = v128.xor(v128.xor(h${i}, v${i}), v${i + 8});`);
        lines.push(`  HA${i} = i64x2.extract_lane(x${i}, 0); HB${i} = i64x2.extract_lane(x${i}, 1);`);
      }
    }
  }
  lines.push(`}`);
  return lines.join('\n');
}

const header = `// GENERATED by scripts/gen-blake2b-compress.ts (npm run gen:blake2b) — do not edit by hand.
//
// BLAKE2b compression F (RFC 7693 §3.2), 12 rounds fully unrolled over locals, for BLAKE2b-256
// without key. \`compress*\` hash one message with i64 arithmetic; \`compress2x*\` (SIMD builds only)
// hash two independent messages at once, one per i64x2 lane. Message words are little-endian u64
// (lane-wise for v128). Nothing here allocates.

/** BLAKE2b IV (RFC 7693 §2.6). */
export const IV0: u64 = 0x6a09e667f3bcc908;
export const IV1: u64 = 0xbb67ae8584caa73b;
export const IV2: u64 = 0x3c6ef372fe94f82b;
export const IV3: u64 = 0xa54ff53a5f1d36f1;
export const IV4: u64 = 0x510e527fade682d1;
export const IV5: u64 = 0x9b05688c2b3e6c1f;
export const IV6: u64 = 0x1f83d9abfb41bd6b;
export const IV7: u64 = 0x5be0cd19137e2179;
/** h0 of BLAKE2b-256 without key: IV0 ^ parameter-block word 0 (digest length 32, fanout 1, depth 1). */
export const P0: u64 = IV0 ^ 0x01010020;

// Chaining state of the message being hashed block by block (wasm globals are per instance, so
// threads sharing one memory do not share these). Lane 0 / scalar: HA; lane 1: HB.
export let HA0: u64 = 0; export let HA1: u64 = 0; export let HA2: u64 = 0; export let HA3: u64 = 0;
export let HA4: u64 = 0; export let HA5: u64 = 0; export let HA6: u64 = 0; export let HA7: u64 = 0;
export let HB0: u64 = 0; export let HB1: u64 = 0; export let HB2: u64 = 0; export let HB3: u64 = 0;
export let HB4: u64 = 0; export let HB5: u64 = 0; export let HB6: u64 = 0; export let HB7: u64 = 0;

/** Sets both chaining states to the BLAKE2b-256 initial value. */
// @ts-ignore: decorator
@inline export function initState(): void {
  HA0 = P0; HA1 = IV1; HA2 = IV2; HA3 = IV3; HA4 = IV4; HA5 = IV5; HA6 = IV6; HA7 = IV7;
  HB0 = P0; HB1 = IV1; HB2 = IV2; HB3 = IV3; HB4 = IV4; HB5 = IV5; HB6 = IV6; HB7 = IV7;
}

// Lane-wise 64-bit rotations right. ror32 and ror16 are 32-/16-bit lane permutations (cheap
// pshufd / pshuflw+pshufhw-style shuffles); for ror24 a byte shuffle measured slower in V8 (Node 24,
// x64) than the two shifts and an or used here.
// @ts-ignore: decorator
@inline function ror32(x: v128): v128 { return i32x4.shuffle(x, x, 1, 0, 3, 2); }
// @ts-ignore: decorator
@inline function ror24(x: v128): v128 { return v128.or(i64x2.shr_u(x, 24), i64x2.shl(x, 40)); }
// @ts-ignore: decorator
@inline function ror16(x: v128): v128 { return i16x8.shuffle(x, x, 1, 2, 3, 0, 5, 6, 7, 4); }
// @ts-ignore: decorator
@inline function ror63(x: v128): v128 { return v128.or(i64x2.shr_u(x, 63), i64x2.add(x, x)); }
`;

// The chained scalar variant keeps H in globals named HA*, matching the lane-0 state.
const body = [
  fn('scalar', 1, true),
  fn('scalar', 9, true),
  fn('scalar', 16, true),
  fn('scalar', 16, false).replace(/\bH(\d)\b/g, 'HA$1'),
  fn('simd', 1, true),
  fn('simd', 9, true),
  fn('simd', 16, true),
  fn('simd', 16, false),
].join('\n\n');

const target = new URL('../assembly/hash/blake2b-compress.ts', import.meta.url);
const text = header + '\n' + body + '\n';
if (process.argv.includes('--stdout')) {
  // test/tidy.test.ts compares this with the committed file (generated files must be fresh).
  process.stdout.write(text);
} else {
  writeFileSync(target, text);
  console.log(`gen-compress: wrote ${target.pathname}`);
}
