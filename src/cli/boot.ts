/**
 * The bundle's first code. The application (src/cli/main.ts, bundled apart) is embedded as a
 * string, which V8 only scans, and compiled here through the code cache (code-cache.ts).
 * Nothing else runs first: a vif event takes a slot (slot.ts), then the application runs.
 */
import { cacheFile, compileApp } from './code-cache.ts';
import { takeSlot } from './slot.ts';

declare const XENPLAN_APP_SOURCE: string;
declare const XENPLAN_APP_HASH: string;

function start(): void {
  const filename = __filename;
  const app = compileApp(XENPLAN_APP_SOURCE, filename, cacheFile(process.env, XENPLAN_APP_HASH));
  const module_ = { exports: {} };
  app(module_.exports, require, module_, filename, __dirname);
}

// Only vif events come in storms (a host booting its guests); admin commands start at once.
const invokedAs = process.env.XENPLAN_AS ?? process.argv[1] ?? '';
if ((invokedAs.split('/').pop() ?? '').startsWith('vif')) void takeSlot(process.env).then(start);
else start();
