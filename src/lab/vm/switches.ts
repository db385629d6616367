/**
 * The host side of the test bed's network, in a namespace of its own (QEMU runs inside it, so
 * its taps live there): dom0's NIC i is tap `xp<i>`, on switch `sw<i>` (a bridge); every switch
 * has an uplink to the `lan` bridge, which holds the gateway 192.0.2.1/24. So eth0 and eth1 of
 * dom0 are on two switches joined upstream, as in the admin's setup. Documentation addresses
 * only; nothing here touches the host's own namespace.
 */
import { execFile } from 'node:child_process';
import { XenplanError } from '../../model/error.ts';

export const GATEWAY = '192.0.2.1';
export const GATEWAY_PREFIX = 24;

export function ipIn(netns: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ip', ['-n', netns, ...args], { encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error)
        reject(
          new XenplanError(
            'environment',
            `ip -n ${netns} ${args.join(' ')}: ${(stderr || error.message).trim()}`,
          ),
        );
      else resolve(stdout);
    });
  });
}

export function tapName(i: number): string {
  return `xp${i}`;
}

/** The namespace with its taps, switches and gateway. */
export async function createSwitches(netns: string, nics: number): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    execFile('ip', ['netns', 'add', netns], (error, _out, stderr) =>
      error
        ? reject(
            new XenplanError(
              'environment',
              `ip netns add ${netns}: ${String(stderr).trim() || error.message}`,
            ),
          )
        : resolve(),
    ),
  );
  const batch: string[][] = [
    ['link', 'set', 'lo', 'up'],
    ['link', 'add', 'lan', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0'],
    ['address', 'add', `${GATEWAY}/${GATEWAY_PREFIX}`, 'dev', 'lan'],
    ['link', 'set', 'lan', 'up'],
  ];
  for (let i = 0; i < nics; i++) {
    batch.push(
      ['tuntap', 'add', 'dev', tapName(i), 'mode', 'tap'],
      ['link', 'add', `sw${i}`, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0'],
      ['link', 'add', `up${i}`, 'type', 'veth', 'peer', 'name', `lan${i}`],
      ['link', 'set', tapName(i), 'master', `sw${i}`, 'up'],
      ['link', 'set', `up${i}`, 'master', `sw${i}`, 'up'],
      ['link', 'set', `lan${i}`, 'master', 'lan', 'up'],
      ['link', 'set', `sw${i}`, 'up'],
    );
  }
  for (const args of batch) await ipIn(netns, args);
}

export function deleteSwitches(netns: string): Promise<void> {
  return new Promise((resolve) => execFile('ip', ['netns', 'delete', netns], () => resolve()));
}
