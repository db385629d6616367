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

/**
 * Shell for the usual kernel-test cabling: dom0 (UML's own namespace) has eth0 and eth1, veths
 * whose peers sit in switch namespace "sw"; the switch bridges them with an uplink to
 * namespace "up", which holds the gateway 192.0.2.1.
 */
export const UML_SWITCH_TOPOLOGY = `
ip netns add sw
ip netns add up
ip -n sw link set lo up
ip -n up link set lo up
ip link add eth0 type veth peer name sw-eth0 netns sw
ip link add eth1 type veth peer name sw-eth1 netns sw
ip -n sw link add uplink type veth peer name up0 netns up
ip -n sw link add swbr type bridge
for p in sw-eth0 sw-eth1 uplink; do ip -n sw link set "$p" master swbr up; done
ip -n sw link set swbr up
ip -n up addr add 192.0.2.1/24 dev up0
ip -n up link set up0 up
`;
