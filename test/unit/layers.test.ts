import { readdirSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The dependency rule (DESIGN.md "Layers"), checked over the source text with regexes:
 *
 *   model                   imports nothing outside src/model: no node:*, no packages
 *   plan, doctor, config    src/model and their own folder; no node:*, no packages
 *   observe, apply, xen     src/model, their own folder, node:*; execa only in src/apply/exec.ts
 *   lab (the sandbox)       as observe/apply/xen, and src/xen too
 *   cli                     anything
 *
 * `process` (the global or node:process) only in src/cli, src/lab and the I/O files below
 * that need a pid. A file in any other folder of src is a violation until it is given a row.
 */

type Layer = 'model' | 'plan' | 'doctor' | 'config' | 'observe' | 'apply' | 'xen' | 'lab' | 'cli';

interface Rule {
  /** Other src folders this layer may import (its own folder and model always). */
  readonly layers: readonly Layer[];
  readonly node: boolean;
  /** Any package, any folder. */
  readonly anything?: boolean;
}

const PURE: Rule = { layers: ['model'], node: false };
const IO: Rule = { layers: ['model'], node: true };

const RULES: Readonly<Record<Layer, Rule>> = {
  model: PURE,
  plan: PURE,
  doctor: PURE,
  config: PURE,
  observe: IO,
  apply: IO,
  xen: IO,
  lab: { layers: ['model', 'xen'], node: true },
  cli: { layers: [], node: true, anything: true },
};

/** The one file that may import execa (admin commands, with a timeout). */
const EXECA_FILE = 'src/apply/exec.ts';

/** Outside src/cli and src/lab, `process` only where a pid is needed. */
const PROCESS_FILES = [
  'src/apply/lock.ts', // writes the holder's pid for messages; flock(1) gets PATH
  'src/apply/state.ts', // the temporary file of an atomic write is named by the pid
];
const PROCESS_LAYERS: readonly Layer[] = ['cli', 'lab'];

/**
 * Comments removed, strings kept: one left-to-right pass, so `//` or `/*` inside a string
 * (or a template literal) is not taken for a comment.
 */
function stripComments(text: string): string {
  return text.replace(
    /'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|`(?:\\[\s\S]|[^`\\])*`|\/\*[\s\S]*?\*\/|\/\/[^\n]*/g,
    (m) => (m.startsWith('/') ? '' : m),
  );
}

/**
 * Every module specifier: `from '…'` (import and export), `import '…'` and `import('…')`.
 * Strings and template literals are consumed whole, so one that merely contains `from '…'`
 * is not taken for an import.
 */
function importsOf(text: string): string[] {
  const token =
    /(?<![\w$.])(?:from|import)\s*\(?\s*(?:'([^'\\\n]+)'|"([^"\\\n]+)")|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|`(?:\\[\s\S]|[^`\\])*`/g;
  return [...stripComments(text).matchAll(token)].flatMap((m) => m[1] ?? m[2] ?? []);
}

/** Whether the code uses `process` (the global, globalThis.process, or node:process). */
function usesProcess(text: string): boolean {
  const code = stripComments(text).replace(/'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"/g, (m) =>
    /^['"]node:process['"]$/.test(m) ? m : "''",
  );
  return (
    /(?<![\w$.])process(?![\w$])/.test(code) ||
    /\bglobalThis\s*\.\s*process\b/.test(code) ||
    /['"]node:process['"]/.test(code)
  );
}

function layerOf(file: string): Layer | undefined {
  const folder = /^src\/([^/]+)\//.exec(file)?.[1];
  return folder !== undefined && Object.hasOwn(RULES, folder) ? (folder as Layer) : undefined;
}

/** Why `file` may not import `spec`, or undefined when it may. */
function refusal(file: string, layer: Layer, spec: string): string | undefined {
  const rule = RULES[layer];
  if (rule.anything) return undefined;
  const allowed = [layer, ...rule.layers.filter((l) => l !== layer)];
  const says = `${layer} may import ${allowed.join(', ')}${rule.node ? ', node:*' : ''}`;
  if (spec.startsWith('node:')) return rule.node ? undefined : says;
  if (spec.startsWith('.')) {
    const target = posix.normalize(posix.join(posix.dirname(file), spec));
    const to = layerOf(target);
    return to !== undefined && allowed.includes(to) ? undefined : says;
  }
  if ((spec === 'execa' || spec.startsWith('execa/')) && file === EXECA_FILE) return undefined;
  return `${says}; packages only in cli${layer === 'apply' ? ` (execa only in ${EXECA_FILE})` : ''}`;
}

/** Every violation of the table, as `file -> import (why)` or `file -> process (why)`. */
function checkLayers(sources: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const [file, text] of sources) {
    const layer = layerOf(file);
    if (layer === undefined) {
      out.push(`${file} -> (no layer: src/${file.split('/')[1]} is not in the table)`);
      continue;
    }
    for (const spec of importsOf(text)) {
      const why = refusal(file, layer, spec);
      if (why !== undefined) out.push(`${file} -> ${spec} (${why})`);
    }
    if (!PROCESS_LAYERS.includes(layer) && !PROCESS_FILES.includes(file) && usesProcess(text))
      out.push(`${file} -> process (only in src/cli, src/lab, ${PROCESS_FILES.join(', ')})`);
  }
  return out;
}

function readSources(): Map<string, string> {
  const files = readdirSync('src', { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => `src/${f.split('\\').join('/')}`)
    .sort();
  return new Map(files.map((f) => [f, readFileSync(f, 'utf8')]));
}

describe('the dependency rule over src/**/*.ts', () => {
  const sources = readSources();

  it('finds the source tree (every layer has files)', () => {
    const layers = new Set([...sources.keys()].map(layerOf));
    expect([...layers].sort()).toEqual([
      'apply',
      'cli',
      'config',
      'doctor',
      'lab',
      'model',
      'observe',
      'plan',
      'xen',
    ]);
  });

  it('no file imports what its layer may not, and process appears only where allowed', () => {
    expect(checkLayers(sources)).toEqual([]);
  });

  it(`execa is imported in exactly one file: ${EXECA_FILE}`, () => {
    const importers = [...sources]
      .filter(([, text]) => importsOf(text).some((s) => s === 'execa' || s.startsWith('execa/')))
      .map(([file]) => file);
    expect(importers).toEqual([EXECA_FILE]);
  });

  it('the process exceptions are real (each still uses process)', () => {
    for (const file of PROCESS_FILES) expect(usesProcess(sources.get(file) ?? ''), file).toBe(true);
  });
});

describe('the scanner', () => {
  it('reads static, side-effect, re-export and dynamic imports, not those in comments or strings', () => {
    const text = [
      "import { a } from '../model/a.ts';",
      "import type {\n  B,\n} from './b.ts';",
      "import 'node:fs';",
      'export { c } from "./c.ts";',
      "const d = await import('../xen/d.ts');",
      "// import { e } from '../plan/e.ts';",
      "/* from '../plan/f.ts' */",
      "const url = 'http://example.org/'; const g = `from '../plan/g.ts'`;",
      "const h = x.import('../plan/h.ts');",
      'const i = "from \'../plan/i.ts\'";',
    ].join('\n');
    expect(importsOf(text)).toEqual(['../model/a.ts', './b.ts', 'node:fs', './c.ts', '../xen/d.ts']);
  });

  it('sees process as code, not in comments or strings', () => {
    expect(usesProcess('const pid = process.pid;')).toBe(true);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: source text under test
    expect(usesProcess('const t = `${path}.${process.pid}.tmp`;')).toBe(true);
    expect(usesProcess("import { kill } from 'node:process';")).toBe(true);
    expect(usesProcess('const env = globalThis.process.env;')).toBe(true);
    expect(usesProcess('f(process);')).toBe(true);
    expect(usesProcess('/** Written without a process. */\nconst x = 1; // process.exit()')).toBe(false);
    expect(usesProcess("throw new Error('no process per key; process.pid');")).toBe(false);
    expect(usesProcess('const processes = 0; r.processes += 1;')).toBe(false);
  });

  it('names each violation as file -> import', () => {
    const sources = new Map([
      ['src/model/a.ts', "import { b } from '../plan/b.ts';\nimport { readFileSync } from 'node:fs';"],
      [
        'src/plan/b.ts',
        "import { c } from './c.ts';\nimport { d } from '../model/d.ts';\nimport { z } from 'zod';",
      ],
      ['src/apply/probe.ts', "import { pingOnce } from '../plan/command.ts';\nprocess.exitCode = 1;"],
      ['src/apply/exec.ts', "const { execa } = await import('execa');"],
      ['src/observe/run.ts', "import { execa } from 'execa';"],
      [
        'src/lab/sandbox.ts',
        "import { x } from '../xen/xenstore.ts';\nimport { y } from '../apply/exec.ts';",
      ],
      [
        'src/cli/main.ts',
        "import { z } from 'zod';\nimport { a } from '../apply/exec.ts';\nprocess.exit(0);",
      ],
      ['src/util/misc.ts', ''],
    ]);
    expect(checkLayers(sources)).toEqual([
      'src/model/a.ts -> ../plan/b.ts (model may import model)',
      'src/model/a.ts -> node:fs (model may import model)',
      'src/plan/b.ts -> zod (plan may import plan, model; packages only in cli)',
      'src/apply/probe.ts -> ../plan/command.ts (apply may import apply, model, node:*)',
      'src/apply/probe.ts -> process (only in src/cli, src/lab, src/apply/lock.ts, src/apply/state.ts)',
      'src/observe/run.ts -> execa (observe may import observe, model, node:*; packages only in cli)',
      'src/lab/sandbox.ts -> ../apply/exec.ts (lab may import lab, model, xen, node:*)',
      'src/util/misc.ts -> (no layer: src/util is not in the table)',
    ]);
  });
});
