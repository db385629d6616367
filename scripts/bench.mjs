// npm run bench [-- --help]: builds the bundle and the TypeScript bench (scripts/bench/*.ts,
// with esbuild into .tmp/bench), then runs it.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
await build({
  entryPoints: {
    main: join(root, 'scripts', 'bench', 'main.ts'),
    runner: join(root, 'scripts', 'bench', 'runner.ts'),
  },
  outdir: join(root, '.tmp', 'bench'),
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node18.19',
  logLevel: 'warning',
});
try {
  execFileSync(process.execPath, [join(root, '.tmp', 'bench', 'main.mjs'), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, XENPLAN_ROOT: root },
  });
} catch (error) {
  process.exitCode = error.status ?? 1; // the bench printed why
}
