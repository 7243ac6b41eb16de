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
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
