// Bundles src/cli/main.ts into one self-contained executable file, dist/xenplan.cjs.
import { chmodSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const outfile = join(root, 'dist', 'xenplan.cjs');

await build({
  entryPoints: [join(root, 'src', 'cli', 'main.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node18.19',
  minify: true,
  keepNames: false,
  legalComments: 'none',
  banner: { js: '#!/usr/bin/env node' },
  define: { XENPLAN_VERSION: JSON.stringify(version) },
  logLevel: 'warning',
});
chmodSync(outfile, 0o755);
const size = statSync(outfile).size;
if (size > 512 * 1024) throw new Error(`bundle is ${size} bytes; the limit is 512 KiB`);
console.log(`built ${outfile.slice(root.length + 1)} (${(size / 1024).toFixed(1)} KiB)`);
