import { configDefaults, defineConfig } from 'vitest/config';

// The codec suite runs against every WebAssembly flavour (relaxed, simd, scalar: src/wasm/kernel.ts
// reads TUSK_WASM).
// The chain, storage-node and network suites (test/chain, test/node, test/network) exercise
// processes, HTTP and SQLite rather than the kernels, so they run once, in the `system` project,
// on the flavour a user gets (TUSK_WASM unset: relaxed on Node 24). test/age (age encryption, no
// kernels) runs there too.
// Slow cases (large blobs, big committees) run only under `npm run test:slow` (TUSK_SLOW=1).
const systemSuites = [
  'test/age/**/*.test.ts',
  'test/chain/**/*.test.ts',
  'test/node/**/*.test.ts',
  'test/network/**/*.test.ts',
  'test/gateway/**/*.test.ts',
  'test/site/**/*.test.ts',
  // No kernel flavour matters to these: shell completion, datasets, the CLI's argument handling
  // and processes, the bench command's report, the house rules, certificates, BCS, committee
  // parameters, quilt layout and the fuzzed parsers (their codec work is the same encoder the
  // codec suites cover in every flavour). Run once, they save ~40 s per flavour.
  'test/completion.test.ts',
  'test/dataset/**/*.test.ts',
  'test/cli.test.ts',
  'test/bench-command.test.ts',
  'test/tidy.test.ts',
  'test/certificate.test.ts',
  'test/bcs.test.ts',
  'test/config.test.ts',
  'test/quilt/**/*.test.ts',
  'test/fuzz/**/*.test.ts',
  'test/stream/full-temp-dir.test.ts',
];
export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    projects: [
      ...(['simd', 'relaxed', 'scalar'] as const).map((flavour) => ({
        extends: true as const,
        test: {
          name: flavour,
          env: { TUSK_WASM: flavour },
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...systemSuites],
        },
      })),
      { extends: true, test: { name: 'system', env: { TUSK_WASM: '' }, include: systemSuites } },
    ],
  },
});
