import { XenplanError } from '../model/error.ts';
import type { Runner } from '../model/ports.ts';
import type { OvsPort, OvsState } from '../model/vif-mode.ts';

/**
 * Open vSwitch as one ovs-vsctl process reads it (JSON tables, never the human format): the
 * bridges with their ports, the guest's port (tag, trunks) and its interface (external-ids).
 */
export async function observeOvs(runner: Runner, name: string): Promise<OvsState> {
  const quoted = JSON.stringify(name);
  const result = await runner.run([
    'ovs-vsctl',
    '--timeout=10',
    '--format=json',
    '--',
    '--columns=_uuid,name,tag,trunks',
    'find',
    'Port',
    `name=${quoted}`,
    '--',
    '--columns=name,external_ids',
    'find',
    'Interface',
    `name=${quoted}`,
    '--',
    '--columns=name,ports',
    'list',
    'Bridge',
  ]);
  if (result.exitCode !== 0)
    throw new XenplanError(
      'environment',
      `ovs-vsctl could not read Open vSwitch (is ovs-vswitchd running?): ${result.stderr.trim() || `exit ${result.exitCode}`}`,
    );
  return parseOvs(result.stdout);
}

interface Table {
  readonly headings: string[];
  readonly data: unknown[][];
}

function table(line: string): Table {
  try {
    const doc = JSON.parse(line) as Partial<Table>;
    if (Array.isArray(doc.headings) && Array.isArray(doc.data)) return doc as Table;
  } catch {
    // reported below
  }
  throw new XenplanError('environment', `cannot parse ovs-vsctl's JSON table: ${line.slice(0, 80)}`);
}

function rows(t: Table): Record<string, unknown>[] {
  return t.data.map((row) => Object.fromEntries(t.headings.map((h, i) => [h, row[i]])));
}

/** An OVSDB set (`["set",[...]]`, or a lone atom) as a list of atoms. */
function setOf(value: unknown): unknown[] {
  if (Array.isArray(value) && value[0] === 'set' && Array.isArray(value[1])) return value[1];
  return value === undefined ? [] : [value];
}

/** An OVSDB uuid (`["uuid","…"]`) as its text. */
function uuidOf(value: unknown): string | undefined {
  return Array.isArray(value) && value[0] === 'uuid' && typeof value[1] === 'string' ? value[1] : undefined;
}

function mapOf(value: unknown): Record<string, string> {
  if (!Array.isArray(value) || value[0] !== 'map' || !Array.isArray(value[1])) return {};
  const out: Record<string, string> = {};
  for (const pair of value[1])
    if (Array.isArray(pair) && typeof pair[0] === 'string') out[pair[0]] = String(pair[1]);
  return out;
}

/** The three JSON tables of observeOvs, one a line. Pure. */
export function parseOvs(stdout: string): OvsState {
  const [ports, interfaces, bridges] = stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map(table);
  if (!ports || !interfaces || !bridges)
    throw new XenplanError('environment', 'ovs-vsctl printed fewer tables than asked for');
  const bridgeRows = rows(bridges);
  const port = rows(ports)[0];
  const state: { bridges: string[]; port?: OvsPort } = {
    bridges: bridgeRows.map((b) => String(b.name)).sort(),
  };
  if (port) {
    const uuid = uuidOf(port._uuid);
    const owner = bridgeRows.find((b) => setOf(b.ports).some((p) => uuidOf(p) === uuid));
    const tag = setOf(port.tag)[0];
    state.port = {
      bridge: owner ? String(owner.name) : '',
      ...(typeof tag === 'number' ? { tag } : {}),
      trunks: setOf(port.trunks)
        .filter((t): t is number => typeof t === 'number')
        .sort((a, b) => a - b),
      externalIds: mapOf(rows(interfaces)[0]?.external_ids),
    };
  }
  return state;
}
