/**
 * UML harness for tests: the product harness (src/lab/uml.ts) with the test process's own
 * `node` directory put in front of the guest PATH, so scenarios can run `node` and the built
 * bundle with the same Node as the tests.
 */
import { dirname } from 'node:path';
import { runInUml as runInUmlLab, type UmlRunResult } from '../../src/lab/uml.ts';
import type { UmlRunOptions } from '../../src/lab/uml-options.ts';

export type { UmlRunResult } from '../../src/lab/uml.ts';
export {
  findUmlModulesVersion,
  type UmlAvailability,
  type UmlModulesVersion,
  umlAvailable,
} from '../../src/lab/uml-host.ts';
export { quoteShell } from '../../src/lab/uml-init.ts';
export type { UmlRunOptions } from '../../src/lab/uml-options.ts';

export function runInUml(options: UmlRunOptions): Promise<UmlRunResult> {
  return runInUmlLab({ ...options, pathPrepend: options.pathPrepend ?? [dirname(process.execPath)] });
}

/** Splits output printed as `@@name` header lines followed by content into a name → text map. */
export function parseUmlSections(output: string): Map<string, string> {
  const sections = new Map<string, string>();
  let name: string | undefined;
  let lines: string[] = [];
  const flush = () => {
    if (name !== undefined) sections.set(name, lines.join('\n').trim());
  };
  for (const line of output.split('\n')) {
    const header = /^@@([\w.-]+)$/.exec(line);
    if (header) {
      flush();
      name = header[1];
      lines = [];
    } else {
      lines.push(line);
    }
  }
  flush();
  return sections;
}
