#!/usr/bin/env node
// Node 24 runs our TypeScript sources directly (type stripping), so there is no build step.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  console.error(
    `tickflow needs Node 24 or newer (found ${process.versions.node}). Run it through npm (npx tickflow / npm run tickflow), which uses the bundled Node 24.`,
  );
  process.exit(2);
}
await import('../src/cli/main.ts');
