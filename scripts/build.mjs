// Bundles xenplan into one self-contained executable file, dist/xenplan.cjs: the application
// (src/cli/main.ts) embedded as a string in a small boot (src/cli/boot.ts) that compiles it
// through a V8 code cache (src/cli/code-cache.ts).
import { createHash } from 'node:crypto';
import { chmodSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const outfile = join(root, 'dist', 'xenplan.cjs');

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node18.19',
  minify: true,
  keepNames: false,
  legalComments: 'none',
  logLevel: 'warning',
};

const app = await build({
  ...common,
  entryPoints: [join(root, 'src', 'cli', 'main.ts')],
  write: false,
  define: {
    XENPLAN_VERSION: JSON.stringify(version),
    // What install --agent puts in place as vif-xenplan.
    XENPLAN_LAUNCHER: JSON.stringify(readFileSync(join(root, 'bin', 'vif-xenplan'), 'utf8')),
  },
});
const source = app.outputFiles[0].text;
const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);

await build({
  ...common,
  entryPoints: [join(root, 'src', 'cli', 'boot.ts')],
  outfile,
  banner: { js: '#!/usr/bin/env node' },
  define: { XENPLAN_APP_SOURCE: JSON.stringify(source), XENPLAN_APP_HASH: JSON.stringify(hash) },
});
chmodSync(outfile, 0o755);
const size = statSync(outfile).size;
if (size > 512 * 1024) throw new Error(`bundle is ${size} bytes; the limit is 512 KiB`);
console.log(`built ${outfile.slice(root.length + 1)} (${(size / 1024).toFixed(1)} KiB)`);
