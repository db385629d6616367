/**
 * The bundle's first code. The application (src/cli/main.ts, bundled apart) is embedded as a
 * string, which V8 only scans, and compiled here through the code cache (code-cache.ts).
 * Nothing else runs first: this file imports node:fs, node:path and node:vm, no more.
 */
import { cacheFile, compileApp } from './code-cache.ts';

declare const XENPLAN_APP_SOURCE: string;
declare const XENPLAN_APP_HASH: string;

const filename = __filename;
const app = compileApp(XENPLAN_APP_SOURCE, filename, cacheFile(process.env, XENPLAN_APP_HASH));
const module_ = { exports: {} };
app(module_.exports, require, module_, filename, __dirname);
