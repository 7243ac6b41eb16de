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
// Node's compile cache (NODE_DISABLE_COMPILE_CACHE=1 turns it off) keeps the TypeScript sources'
// type-stripped, compiled form between runs: without it every start pays ~0.2 s of CPU to strip
// types. It lives with the user's caches ($XDG_CACHE_HOME or ~/.cache, tusk/node-compile-cache),
// not in the temporary directory, which tusk keeps free of anything it leaves behind. The pool's
// worker threads inherit it through the env.
const { enableCompileCache } = await import('node:module');
const { homedir } = await import('node:os');
const { join } = await import('node:path');
const cacheDir =
  process.env.NODE_COMPILE_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'tusk', 'node-compile-cache');
const cache = enableCompileCache?.(cacheDir);
if (cache?.directory && !process.env.NODE_COMPILE_CACHE) process.env.NODE_COMPILE_CACHE = cache.directory;
// The codec commands run on worker threads: start them first, so they boot while this thread loads
// the CLI (src/pool/prespawn.ts; a pool adopts them). blob-id's pool has this thread take a slot.
const command = process.argv[2];
if (['blob-id', 'encode', 'decode'].includes(command) && !process.argv.some((a) => a === '--help' || a === '-h')) {
  const { availableParallelism } = await import('node:os');
  const { prespawnCodecWorkers } = await import('../src/pool/prespawn.ts');
  prespawnCodecWorkers(availableParallelism() - (command === 'blob-id' ? 1 : 0));
}
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
