// Node script, not AssemblyScript: regenerates assembly/hash/blake2b-compress.ts.
//
//   npm run gen:blake2b   (node scripts/gen-blake2b-compress.ts; `--stdout` prints instead of writing)
//
// The BLAKE2b compression function F (RFC 7693 §3.2) is emitted fully unrolled (12 rounds × 8 G)
// over local variables, because AssemblyScript cannot pass locals by reference and a round loop
// with a message-schedule table would keep the state in memory. Variants differ in which message
// words are present (absent words are zero and their additions are simply not emitted), in
// whether the block is the first-and-last one of a message (state = parameter-block IV, digest
// stored directly) or a chained block (state in module globals), and in how many messages they
// hash: one (i64), or three for SIMD builds (one in i64, two in the lanes of i64x2 vectors, their
// G steps interleaved so the core runs two independent dependency chains; `leaves3Multi` is the
// whole multi-block loop, its states in locals).
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

// Two kinds of lanes: a scalar message (u64 locals, prefix `a`) and a pair of messages (one per
// i64x2 lane, prefix `x`). The three-message variants interleave the two kinds G-step by G-step.
type Lane = 'scalar' | 'pair';

const LANE_PREFIX: Record<Lane, string> = { scalar: 'a', pair: 'x' };

function add(l: Lane, a: string, b: string): string {
  return l === 'scalar' ? `${a} + ${b}` : `i64x2.add(${a}, ${b})`;
}

/** One half of G (message word x, rotations r1, r2) for one lane. */
function halfG(l: Lane, g: number, x: number, r1: number, r2: number, words: Set<number>): string {
  const p = LANE_PREFIX[l];
  const [a, b, c, d] = G_ARGS[g].map((j) => `${p}v${j}`);
  const ror = (v: string, n: number) => (l === 'scalar' ? `rotr<u64>(${v}, ${n})` : `ror${n}(${v})`);
  const xor = (u: string, v: string) => (l === 'scalar' ? `${u} ^ ${v}` : `v128.xor(${u}, ${v})`);
  let sum = add(l, a, b);
  if (words.has(x)) sum = add(l, sum, `${p}m${x}`);
  return `  ${a} = ${sum}; ${d} = ${ror(xor(d, a), r1)}; ${c} = ${add(l, c, d)}; ${b} = ${ror(xor(b, c), r2)};`;
}

/**
 * The 12 rounds over the given lanes; `words`: the message words that may be non-zero. With two
 * lanes, each half-G of the scalar message is followed by the same half-G of the pair: the two
 * dependency chains are independent, so the core runs them side by side on its integer and
 * vector units (one message's G chain is latency-bound at ~3 ops/cycle here).
 */
function rounds(lanes: Lane[], words: Set<number>): string[] {
  const out: string[] = [];
  for (let r = 0; r < 12; r++) {
    const s = SIGMA[r % 10];
    out.push(`  // round ${r}`);
    for (let g = 0; g < 8; g++) {
      for (const l of lanes) out.push(halfG(l, g, s[2 * g], 32, 24, words));
      for (const l of lanes) out.push(halfG(l, g, s[2 * g + 1], 16, 63, words));
    }
  }
  return out;
}

const IV = ['IV0', 'IV1', 'IV2', 'IV3', 'IV4', 'IV5', 'IV6', 'IV7'];
/** Initial chaining value of BLAKE2b-256 without key: IV with h0 ^= 0x01010020. */
const H_INIT = ['P0', 'IV1', 'IV2', 'IV3', 'IV4', 'IV5', 'IV6', 'IV7'];
/** State setup of one lane: v0..v7 from the chaining value, v8..v15 from IV, t and f. */
function setup(l: Lane, single: boolean): string[] {
  const p = LANE_PREFIX[l];
  const T = l === 'scalar' ? 'u64' : 'v128';
  const c = (x: string) => (l === 'scalar' ? x : `i64x2.splat(${x})`);
  const lines: string[] = [];
  for (let i = 0; i < 8; i++) lines.push(`  let ${p}v${i}: ${T} = ${single ? c(H_INIT[i]) : `HA${i}`};`);
  if (!single) for (let i = 0; i < 8; i++) lines.push(`  const ${p}h${i} = ${p}v${i};`);
  for (let i = 0; i < 8; i++) {
    let init = IV[i];
    if (i === 4) init = `IV4 ^ t`;
    if (i === 6) init = single ? `~IV6` : `IV6 ^ f`;
    lines.push(`  let ${p}v${i + 8}: ${T} = ${c(init)};`);
  }
  return lines;
}

/** Digest / chaining-value output of one lane. */
function finish(l: Lane, single: boolean): string[] {
  const p = LANE_PREFIX[l];
  const lines: string[] = [];
  if (l === 'scalar') {
    if (single) for (let i = 0; i < 4; i++) lines.push(`  store<u64>(outA, ${H_INIT[i]} ^ ${p}v${i} ^ ${p}v${i + 8}, ${8 * i});`);
    else for (let i = 0; i < 8; i++) lines.push(`  HA${i} = ${p}h${i} ^ ${p}v${i} ^ ${p}v${i + 8};`);
  } else if (single) {
    for (let i = 0; i < 4; i++) lines.push(`  const y${i} = v128.xor(v128.xor(i64x2.splat(${H_INIT[i]}), ${p}v${i}), ${p}v${i + 8});`);
    lines.push(`  v128.store(outB, i64x2.shuffle(y0, y1, 0, 2));`);
    lines.push(`  v128.store(outB, i64x2.shuffle(y2, y3, 0, 2), 16);`);
    lines.push(`  v128.store(outC, i64x2.shuffle(y0, y1, 1, 3));`);
    lines.push(`  v128.store(outC, i64x2.shuffle(y2, y3, 1, 3), 16);`);
  }
  return lines;
}

/**
 * `compress{Single,Chained}N` (one message, scalar) or `compress3{Single,Chained}N` (three
 * messages: A scalar, B and C in the lanes of i64x2 vectors; SIMD builds only).
 */
function fn(three: boolean, nWords: number, single: boolean): string {
  const words = new Set(Array.from({ length: nWords }, (_, i) => i));
  const lanes: Lane[] = three ? ['scalar', 'pair'] : ['scalar'];
  const name = `${three ? 'compress3' : 'compress'}${single ? 'Single' : 'Chained'}${nWords}`;
  const params = lanes.flatMap((l) =>
    Array.from({ length: nWords }, (_, i) => `${LANE_PREFIX[l]}m${i}: ${l === 'scalar' ? 'u64' : 'v128'}`),
  );
  const outs = three ? 'outA: usize, outB: usize, outC: usize' : 'outA: usize';
  const lines: string[] = [];
  if (single) {
    lines.push(
      three
        ? `/** Three independent messages of one block of t bytes each (A: scalar words; B, C: lanes 0, 1 of the vector words), digests at outA, outB, outC. Words m${nWords}..m15 are zero. Every output is written after every input word was taken. */`
        : `/** F on the only block of a message: chaining value = BLAKE2b-256 IV, digest (32 bytes) stored at outA. Words m${nWords}..m15 are zero. */`,
    );
    lines.push(`// @ts-ignore: decorator`);
    lines.push(`@inline export function ${name}(${outs}, t: u64, ${params.join(', ')}): void {`);
  } else {
    lines.push(
      `/** F on a block of a chained message: h = HA0..HA7 (module globals, updated); t = bytes so far; f = ~0 on the last block. */`,
    );
    lines.push(`// @ts-ignore: decorator`);
    lines.push(`@inline export function ${name}(t: u64, f: u64, ${params.join(', ')}): void {`);
  }
  for (const l of lanes) lines.push(...setup(l, single));
  lines.push(...rounds(lanes, words));
  for (const l of lanes) lines.push(...finish(l, single));
  lines.push(`}`);
  return lines.join('\n');
}

/**
 * `leaves3Multi`: three Walrus leaves of the same length len > 127 (message = one zero prefix byte,
 * then len data bytes, so at least two blocks) in lock-step, the whole block loop in one function
 * so that the three chaining states stay in locals. The blocks before the last take plain loads;
 * the last block (a second inlined compression) takes clamped, branch-free loads: one loop body
 * for every block with those loads measured ~7 % slower, with per-word branches ~10 %.
 */
function leaves3Multi(): string {
  const words = Array.from({ length: 16 }, (_, i) => i);
  /** One compression of the three states with message words am*, xm* (t, f: expressions). */
  const compress = (t: string, f: string): string[] => {
    const body: string[] = [];
    for (const l of ['scalar', 'pair'] as Lane[]) {
      const p = LANE_PREFIX[l];
      const T = l === 'scalar' ? 'u64' : 'v128';
      const c = (x: string) => (l === 'scalar' ? x : `i64x2.splat(${x})`);
      for (let i = 0; i < 8; i++) body.push(`  let ${p}v${i}: ${T} = ${p}h${i};`);
      for (let i = 0; i < 8; i++) {
        let init = c(IV[i]);
        if (i === 4) init = c(`IV4 ^ ${t}`);
        if (i === 6) init = c(`IV6 ^ ${f}`);
        body.push(`  let ${p}v${i + 8}: ${T} = ${init};`);
      }
    }
    body.push(...rounds(['scalar', 'pair'], new Set(words)));
    for (let i = 0; i < 8; i++) body.push(`  ah${i} = ah${i} ^ av${i} ^ av${i + 8};`);
    for (let i = 0; i < 8; i++) body.push(`  xh${i} = v128.xor(v128.xor(xh${i}, xv${i}), xv${i + 8});`);
    return body;
  };
  const lines: string[] = [];
  lines.push(
    `/** Walrus leaf digests of three symbols of len > 127 bytes at a, b, c → outA, outB, outC (A scalar; B, C in vector lanes). Reads only the symbols; writes after reading. */`,
  );
  lines.push(`// @ts-ignore: decorator`);
  lines.push(
    `@inline export function leaves3Multi(a: usize, b: usize, c: usize, len: usize, outA: usize, outB: usize, outC: usize): void {`,
  );
  for (let i = 0; i < 8; i++) lines.push(`  let ah${i}: u64 = ${H_INIT[i]};`);
  for (let i = 0; i < 8; i++) lines.push(`  let xh${i}: v128 = i64x2.splat(${H_INIT[i]});`);
  lines.push(`  const total = len + 1;`);
  lines.push(`  let o: usize = 0; // message offset of the block`);
  lines.push(`  // Every block but the last: message bytes [o, o + 128) = data [o − 1, o + 127), inside the data.`);
  lines.push(`  // Block 0's word 0 is the zero prefix byte and data[0..7): read at the data's start, shifted up.`);
  lines.push(`  for (; total - o > 128; o += 128) {`);
  lines.push(`    const first = o == 0;`);
  lines.push(`    const s0 = first ? 0 : o - 1;`);
  lines.push(`    const up: u64 = first ? 8 : 0;`);
  lines.push(`    const am0 = load<u64>(a + s0) << up;`);
  lines.push(`    const xm0 = i64x2.shl(v128.load64_lane(c + s0, v128.load64_zero(b + s0), 1), <i32>up);`);
  lines.push(`    const pa = a + o - 1; const pb = b + o - 1; const pc = c + o - 1;`);
  for (const i of words.slice(1))
    lines.push(
      `    const am${i} = load<u64>(pa, ${8 * i}); const xm${i} = v128.load64_lane(pc + ${8 * i}, v128.load64_zero(pb + ${8 * i}), 1);`,
    );
  lines.push(...compress('<u64>(o + 128)', '0').map((x) => `  ${x}`));
  lines.push(`  }`);
  lines.push(`  // The last block (o ≥ 128): the data word at s is read from min(s, len − 8), always inside the`);
  lines.push(`  // data as len > 127, and shifted down to start at s; words at or past the end are zero.`);
  lines.push(`  let ${words.map((i) => `am${i}: u64`).join(', ')};`);
  lines.push(`  let ${words.map((i) => `xm${i}: v128`).join(', ')};`);
  for (const i of words) {
    lines.push(`  {`);
    lines.push(`    const s = o + ${8 * i - 1};`);
    lines.push(`    const at = min(s, len - 8);`);
    lines.push(`    const sh: u64 = <u64>(s - at) << 3;`);
    lines.push(`    const keep: u64 = s < len ? ~(<u64>0) : 0;`);
    lines.push(`    am${i} = (load<u64>(a + at) >> sh) & keep;`);
    lines.push(`    xm${i} = v128.and(i64x2.shr_u(v128.load64_lane(c + at, v128.load64_zero(b + at), 1), <i32>sh), i64x2.splat(keep));`);
    lines.push(`  }`);
  }
  lines.push(...compress('<u64>total', '~(<u64>0)'));
  for (let i = 0; i < 4; i++) lines.push(`  store<u64>(outA, ah${i}, ${8 * i});`);
  lines.push(`  v128.store(outB, i64x2.shuffle(xh0, xh1, 0, 2));`);
  lines.push(`  v128.store(outB, i64x2.shuffle(xh2, xh3, 0, 2), 16);`);
  lines.push(`  v128.store(outC, i64x2.shuffle(xh0, xh1, 1, 3));`);
  lines.push(`  v128.store(outC, i64x2.shuffle(xh2, xh3, 1, 3), 16);`);
  lines.push(`}`);
  return lines.join('\n');
}

const header = `// GENERATED by scripts/gen-blake2b-compress.ts (npm run gen:blake2b) — do not edit by hand.
//
// BLAKE2b compression F (RFC 7693 §3.2), 12 rounds fully unrolled over locals, for BLAKE2b-256
// without key. \`compress*\` hash one message with i64 arithmetic; \`compress3*\` (SIMD builds only)
// hash three independent messages at once: A with i64 arithmetic and B, C in the two lanes of
// i64x2 vectors, their G steps interleaved. Message words are little-endian u64 (lane-wise for
// v128). Nothing here allocates.


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

// Chaining state of the one message hashed block by block (wasm globals are per instance, so
// threads sharing one memory do not share these). leaves3Multi keeps its three states in locals.
export let HA0: u64 = 0; export let HA1: u64 = 0; export let HA2: u64 = 0; export let HA3: u64 = 0;
export let HA4: u64 = 0; export let HA5: u64 = 0; export let HA6: u64 = 0; export let HA7: u64 = 0;

/** Sets the chaining state to the BLAKE2b-256 initial value. */
// @ts-ignore: decorator
@inline export function initState(): void {
  HA0 = P0; HA1 = IV1; HA2 = IV2; HA3 = IV3; HA4 = IV4; HA5 = IV5; HA6 = IV6; HA7 = IV7;
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

const body = [
  fn(false, 1, true),
  fn(false, 9, true),
  fn(false, 16, true),
  fn(false, 16, false),
  fn(true, 1, true),
  fn(true, 9, true),
  fn(true, 16, true),
  leaves3Multi(),
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
