import type { Role } from './exit.ts';

/** Whether a run asked for the JSON contract: then its errors are JSON too. */
export function wantsJson(argv: readonly string[]): boolean {
  return argv.includes('--json');
}

/** Every command name a report may carry (schema/xenplan-1.schema.json lists the same). */
const KNOWN = new Set([
  'network start',
  'network stop',
  'network status',
  'network confirm',
  'vif online',
  'vif offline',
  'vif add',
  'vif remove',
  'doctor',
  'install',
  'uninstall',
  'bridge-port',
  'lab',
  'help',
  'version',
  'manpage',
  'antispoof status',
  'antispoof gc',
]);

/**
 * The command a run's report names, from its role and words (`network start`, `doctor`);
 * a word that names no command gives the role's name alone.
 */
export function commandOf(role: Role, argv: readonly string[]): string {
  const named = nameOf(role, argv);
  if (KNOWN.has(named)) return named;
  return role === 'xenplan' && (named.startsWith('network') || named.startsWith('vif'))
    ? (named.split(' ')[0] ?? 'xenplan')
    : role;
}

function nameOf(role: Role, argv: readonly string[]): string {
  const words = argv.filter((w) => !w.startsWith('-') && !w.includes('='));
  if (role === 'vif') return `vif ${words[0] ?? ''}`.trim();
  if (role === 'network') return `network ${words[0] ?? ''}`.trim();
  const [first, second] = words;
  switch (first) {
    case 'network':
    case 'vif':
    case 'antispoof':
      return `${first} ${second ?? ''}`.trim();
    case 'plan':
      return 'network start';
    case 'status':
    case 'confirm':
      return `network ${first}`;
    default:
      return first ?? 'xenplan';
  }
}
