import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { DOCTOR_HELP } from '../../../src/cli/doctor.ts';
import { INSTALL_HELP, UNINSTALL_HELP } from '../../../src/cli/install.ts';
import { LAB_HELP } from '../../../src/cli/lab.ts';
import { networkHelp } from '../../../src/cli/network.ts';
import { BOND_OPTION_INDEX } from '../../../src/config/bond-options.ts';
import { readSource, resolveKey } from '../../../src/config/source.ts';

/**
 * Every `key=value` that a doctor finding's fix or a help text names must be a key (and,
 * where the text gives a literal value, a value) that network-script's parser accepts: an
 * admin copies them. Derived from the key table, the rule sources and the help texts, so
 * rules and keys added later are checked too.
 */

/** Stands for a `${…}` in a template literal: a value the text computes. */
const HOLE = '¤';

/** Why each `key=value` named in text is not accepted (empty when all are). */
function namedKeyProblems(text: string): string[] {
  const problems: string[] = [];
  // ifcfg's BONDING_OPTS='…' holds kernel option names, not network-script keys.
  let rest = text.replace(/BONDING_OPTS='([^']*)'/g, (_all, opts: string) => {
    for (const word of opts.split(/\s+/)) {
      const name = word.split('=')[0] ?? '';
      if (word === '...' || word === '…' || name.includes(HOLE)) continue;
      if (!['mode', 'miimon'].includes(name) && !BOND_OPTION_INDEX.has(name))
        problems.push(`BONDING_OPTS names ${name}=, not a bonding option`);
    }
    return ' ';
  });
  // `sysctl -w name=value` names a sysctl; `--flag=` an option.
  rest = rest.replace(/sysctl -w \S+/g, ' ');
  for (const m of rest.matchAll(/(?<![\w.$<>¤-])([a-z][a-z0-9_.-]*)=([^\s,;)'"]*)/g)) {
    const key = m[1] ?? '';
    const value = (m[2] ?? '').replace(/[.:]+$/, '');
    if (key === 'key') continue; // "key=value" names the form, not a key
    const resolved = resolveKey(key);
    if (typeof resolved === 'string') {
      problems.push(`${key}=: ${resolved.slice(0, 60)}`);
      continue;
    }
    // A literal value must pass the key's check too; computed or <placeholder> values cannot be.
    if (value === '' || /[A-Z<¤…]|\.\.\./.test(value)) continue;
    const valueProblems: string[] = [];
    readSource([{ key, value }], true, valueProblems);
    problems.push(...valueProblems);
  }
  return problems;
}

/** The text of every `fix:` in the doctor rules, `${…}` as HOLE, each branch of a `?:`. */
function fixTexts(): { where: string; text: string }[] {
  const dir = join(import.meta.dirname, '../../../src/doctor');
  const out: { where: string; text: string }[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const source = ts.createSourceFile(file, readFileSync(join(dir, file), 'utf8'), ts.ScriptTarget.Latest);
    const texts = (e: ts.Expression): string[] => {
      if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) return [e.text];
      if (ts.isTemplateExpression(e))
        return [e.head.text + e.templateSpans.map((s) => HOLE + s.literal.text).join('')];
      if (ts.isConditionalExpression(e)) return [...texts(e.whenTrue), ...texts(e.whenFalse)];
      if (ts.isParenthesizedExpression(e)) return texts(e.expression);
      return [];
    };
    const visit = (node: ts.Node) => {
      if (ts.isPropertyAssignment(node) && node.name.getText(source) === 'fix') {
        const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
        for (const text of texts(node.initializer)) out.push({ where: `src/doctor/${file}:${line}`, text });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return out;
}

describe('keys named by doctor fixes and help texts', () => {
  it('the checker catches a wrong key, a wrong value and a kernel option outside BONDING_OPTS', () => {
    expect(namedKeyProblems('dom0=bridge')).toHaveLength(1);
    expect(namedKeyProblems('antispoof=true')).toHaveLength(1);
    expect(namedKeyProblems("primary=eth0 (BONDING_OPTS='mode=1 primary=eth0')")).toHaveLength(1);
    expect(namedKeyProblems('bond.primary=eth0 dom0-port=bridge antispoof=yes (sysctl -w a.b=1)')).toEqual(
      [],
    );
  });

  it('finds the fixes of every rule file', () => {
    const files = new Set(fixTexts().map((f) => f.where.split(':')[0]));
    expect(files.size).toBeGreaterThanOrEqual(8);
  });

  it.each(fixTexts().map((f) => [f.where, f.text]))('%s: the fix names accepted keys', (_where, text) => {
    expect(namedKeyProblems(text)).toEqual([]);
  });

  it.each([
    ['network-script --help', networkHelp()],
    ['xenplan doctor --help', DOCTOR_HELP()],
    ['xenplan lab --help', LAB_HELP()],
    ['xenplan install --help', INSTALL_HELP],
    ['xenplan uninstall --help', UNINSTALL_HELP],
  ])('%s names accepted keys', (_name, help) => {
    expect(namedKeyProblems(help)).toEqual([]);
  });
});
