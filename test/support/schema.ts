import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * A validator for the subset of JSON Schema that schema/xenplan-1.schema.json uses (type,
 * const, enum, properties, required, additionalProperties, items, $ref into $defs, anyOf,
 * pattern, minimum). Small enough to read, so no dependency; a keyword outside the subset is
 * an error, so the schema cannot quietly say more than is checked.
 */
type Schema = Record<string, unknown>;

const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description', '$defs']);
const KEYWORDS = new Set([
  'type',
  'const',
  'enum',
  'properties',
  'required',
  'additionalProperties',
  'items',
  '$ref',
  'anyOf',
  'pattern',
  'minimum',
]);

export const SCHEMA_FILE = resolve('schema/xenplan-1.schema.json');

export function loadSchema(): Schema {
  return JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as Schema;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function typeMatches(value: unknown, type: string): boolean {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

/** Every way `value` breaks `schema`, as `path: problem` lines; empty when it is valid. */
export function validate(value: unknown, root: Schema = loadSchema()): string[] {
  const problems: string[] = [];
  check(value, root, '$', root, problems);
  return problems;
}

function check(v: unknown, s: Schema, path: string, root: Schema, problems: string[]): void {
  for (const key of Object.keys(s))
    if (!KEYWORDS.has(key) && !ANNOTATIONS.has(key))
      throw new Error(`${path}: schema keyword ${key} is not supported`);
  if (typeof s.$ref === 'string') {
    const name = /^#\/\$defs\/(.+)$/.exec(s.$ref)?.[1];
    const target =
      name === undefined ? undefined : (root.$defs as Record<string, Schema> | undefined)?.[name];
    if (target === undefined) throw new Error(`${path}: unresolved $ref ${s.$ref}`);
    check(v, target, path, root, problems);
  }
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (!types.some((t) => typeMatches(v, t))) {
      problems.push(`${path}: want ${types.join(' or ')}, have ${typeOf(v)}`);
      return;
    }
  }
  if ('const' in s && JSON.stringify(v) !== JSON.stringify(s.const))
    problems.push(`${path}: want ${JSON.stringify(s.const)}, have ${JSON.stringify(v)}`);
  if (Array.isArray(s.enum) && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(v)))
    problems.push(`${path}: ${JSON.stringify(v)} is not one of ${JSON.stringify(s.enum)}`);
  if (typeof s.pattern === 'string' && typeof v === 'string' && !new RegExp(s.pattern, 'u').test(v))
    problems.push(`${path}: ${JSON.stringify(v)} does not match ${s.pattern}`);
  if (typeof s.minimum === 'number' && typeof v === 'number' && v < s.minimum)
    problems.push(`${path}: ${v} is below ${s.minimum}`);
  if (Array.isArray(s.anyOf)) {
    const fits = (s.anyOf as Schema[]).some((option) => {
      const found: string[] = [];
      check(v, option, path, root, found);
      return found.length === 0;
    });
    if (!fits) problems.push(`${path}: matches none of anyOf`);
  }
  if (typeOf(v) === 'object') {
    const object = v as Record<string, unknown>;
    const properties = (s.properties ?? {}) as Record<string, Schema>;
    for (const key of (s.required ?? []) as string[])
      if (!(key in object)) problems.push(`${path}: missing ${key}`);
    for (const [key, item] of Object.entries(object)) {
      const sub = properties[key];
      if (sub !== undefined) check(item, sub, `${path}.${key}`, root, problems);
      else if (s.additionalProperties === false) problems.push(`${path}: unexpected key ${key}`);
    }
  }
  if (Array.isArray(v) && s.items !== undefined)
    v.forEach((item, i) => {
      check(item, s.items as Schema, `${path}[${i}]`, root, problems);
    });
}

interface StepRecord {
  id: string;
  phase: string;
  argv: string[];
  reason: string;
  disruptive: boolean;
}

/** A report as tests read it (the schema has checked it; keys a command lacks are undefined). */
export interface Report {
  [key: string]: unknown;
  schema: string;
  command: string;
  ok: boolean;
  changed: boolean | null;
  dryRun: boolean;
  steps: StepRecord[];
  drift: StepRecord[];
  warnings: string[];
  xenstore: { path: string; value: string; reason: string }[];
  findings: {
    id: string;
    severity: string;
    message: string;
    fix: string;
    source: string;
    objects: string[];
  }[];
  bridge: { name: string; ports: { name: string }[] };
  error: { kind: string; message: string; detail?: string; step?: string };
}

/** Parses a command's stdout as one JSON report and checks it against the schema file. */
export function expectReport(stdout: string): Report {
  const doc = JSON.parse(stdout) as Report;
  const problems = validate(doc);
  if (problems.length > 0)
    throw new Error(`--json output breaks the schema:\n${problems.join('\n')}\n${stdout}`);
  return doc;
}
