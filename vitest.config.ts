import { defineConfig } from 'vitest/config';

// The same suite runs against both WebAssembly flavours (src/wasm/kernel.ts reads TUSK_WASM).
// Slow cases (large blobs, big committees) run only under `npm run test:slow` (TUSK_SLOW=1).
export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'simd', env: { TUSK_WASM: 'simd' } } },
      { extends: true, test: { name: 'scalar', env: { TUSK_WASM: 'scalar' } } },
    ],
  },
});
