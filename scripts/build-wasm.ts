/**
 * Builds the three WebAssembly flavours of the kernels from the same AssemblyScript sources:
 *   build/tusk-relaxed.wasm (--enable simd,relaxed-simd: relaxed_swizzle table lookups)
 *   build/tusk-simd.wasm   (--enable simd: i8x16.swizzle multiply, vector butterflies)
 *   build/tusk-scalar.wasm (no SIMD: runs on engines without WebAssembly SIMD)
 * The runtime picks one with WebAssembly.validate (src/wasm/load.ts).
 *
 * Skips a target whose output is newer than every file under assembly/ and asconfig.json,
 * so `npm test` stays fast after the first build. `--force` rebuilds.
 */
import { main } from 'assemblyscript/asc';
import { readdirSync, statSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const force = process.argv.includes('--force');

function newestSource(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return t;
}

const srcTime = Math.max(newestSource(join(root, 'assembly')), statSync(join(root, 'asconfig.json')).mtimeMs);
mkdirSync(join(root, 'build'), { recursive: true });

for (const target of ['simd', 'relaxed', 'scalar']) {
  const out = join(root, 'build', `tusk-${target}.wasm`);
  if (!force && existsSync(out) && statSync(out).mtimeMs > srcTime) continue;
  const { error, stderr } = await main(
    ['--config', join(root, 'asconfig.json'), '--target', target, '--textFile', out.replace(/\.wasm$/, '.wat')],
    {},
  );
  if (error) {
    process.stderr.write(stderr.toString());
    console.error(`build-wasm: ${target} failed: ${error.message}`);
    process.exit(1);
  }
  console.log(`build-wasm: built ${out}`);
}
