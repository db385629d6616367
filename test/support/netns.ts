import { execFileSync, spawnSync } from 'node:child_process';

let counter = 0;

/** A network namespace made by a test; delete() removes it (and the veths in it). */
export class Netns {
  readonly name: string;

  constructor(label: string) {
    counter += 1;
    this.name = `xpt-${label}-${process.pid}-${counter}`.slice(0, 40);
    execFileSync('ip', ['netns', 'add', this.name]);
    this.ip('link', 'set', 'lo', 'up');
  }

  /** Runs `ip ARGS` inside; throws with stderr on failure. */
  ip(...args: string[]): string {
    return execFileSync('ip', ['-n', this.name, ...args], { encoding: 'utf8' });
  }

  /** Runs argv inside the namespace; returns status and output, never throws. */
  exec(argv: string[], options: { env?: Record<string, string>; input?: string } = {}) {
    const result = spawnSync('ip', ['netns', 'exec', this.name, ...argv], {
      encoding: 'utf8',
      env: { ...process.env, ...options.env },
      input: options.input,
    });
    return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
  }

  /** `ip -json ARGS` inside, parsed. */
  json<T = Record<string, unknown>[]>(...args: string[]): T {
    return JSON.parse(this.ip('-json', ...args)) as T;
  }

  link(
    name: string,
  ): Record<string, unknown> & { master?: string; mtu: number; flags: string[]; operstate: string } {
    const [link] = this.json('-details', 'link', 'show', 'dev', name) as never[];
    if (link === undefined) throw new Error(`no link ${name} in ${this.name}`);
    return link;
  }

  hasLink(name: string): boolean {
    return spawnSync('ip', ['-n', this.name, 'link', 'show', 'dev', name], { stdio: 'ignore' }).status === 0;
  }

  /**
   * Ping until `count` replies arrive or `deadline` seconds pass (bounded: 5 packets a second).
   * True when all `count` replies came back.
   */
  ping(address: string, count = 2, deadline = 10): boolean {
    return (
      this.exec(['ping', '-n', '-q', '-c', String(count), '-w', String(deadline), '-i', '0.2', address])
        .status === 0
    );
  }

  /** Moves `dev` (in the machine's own namespace? never) from this namespace into `other`. */
  moveLink(dev: string, other: Netns): void {
    this.ip('link', 'set', 'dev', dev, 'netns', other.name);
  }

  delete(): void {
    spawnSync('ip', ['netns', 'del', this.name], { stdio: 'ignore' });
  }

  /** Lets IPv6 duplicate address detection finish (at most 5 s), so snapshots compare like with like. */
  settle(): void {
    const deadline = Date.now() + 5000;
    while (this.ip('-6', 'address', 'show', 'tentative').trim() !== '' && Date.now() < deadline)
      spawnSync('sleep', ['0.1']);
  }

  /** Links, masters, addresses and routes (after DAD settles): compared before/after a run. */
  snapshot(): string {
    this.settle();
    const links = this.json('-details', 'link', 'show').map((l) => ({
      name: l.ifname,
      master: l.master,
      flags: l.flags,
      mtu: l.mtu,
      address: l.address,
    }));
    const addrs = this.json('address', 'show').map((l) => ({ name: l.ifname, addr: l.addr_info }));
    const routes = this.json('route', 'show', 'table', 'all');
    return JSON.stringify({ links, addrs, routes });
  }
}

/** Makes a veth pair `a` (in ns `left`) and `b` (in ns `right`). */
export function cable(left: Netns, a: string, right: Netns, b: string): void {
  left.ip('link', 'add', a, 'type', 'veth', 'peer', 'name', b, 'netns', right.name);
}

/**
 * The single-NIC host most network-script tests start from: namespace `LABEL-dom0` whose eth0
 * (up, 192.0.2.10/24, default route via 192.0.2.1) is cabled to up0 (up, 192.0.2.1/24) of
 * namespace `LABEL-up`, the gateway.
 */
export function dom0WithGateway(label: string): { dom0: Netns; upstream: Netns } {
  const dom0 = new Netns(`${label}-dom0`);
  const upstream = new Netns(`${label}-up`);
  cable(dom0, 'eth0', upstream, 'up0');
  upstream.ip('address', 'add', '192.0.2.1/24', 'dev', 'up0');
  upstream.ip('link', 'set', 'up0', 'up');
  dom0.ip('address', 'add', '192.0.2.10/24', 'dev', 'eth0');
  dom0.ip('link', 'set', 'eth0', 'up');
  dom0.ip('route', 'add', 'default', 'via', '192.0.2.1');
  return { dom0, upstream };
}
