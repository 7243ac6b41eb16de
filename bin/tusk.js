#!/usr/bin/env node
// The `tusk` command. Runs the TypeScript sources directly (Node ≥ 22.18 strips types natively);
// `npx tusk` from the repo root uses the Node 24 that `npm install` put in node_modules/.bin.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(
    `tusk: needs Node.js ≥ 22.18 (found ${process.version}). Run it as \`npx tusk …\` from the repository, which uses the Node 24 installed by \`npm install\`.`,
  );
  process.exit(1);
}
// Node's compile cache (on disk, in the temporary directory; NODE_DISABLE_COMPILE_CACHE=1 turns it
// off) keeps the TypeScript sources' type-stripped, compiled form between runs: without it every
// start pays ~0.2 s of CPU to strip types. The pool's worker threads inherit it through the env.
const { enableCompileCache } = await import('node:module');
const cache = enableCompileCache?.();
if (cache?.directory && !process.env.NODE_COMPILE_CACHE) process.env.NODE_COMPILE_CACHE = cache.directory;
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
