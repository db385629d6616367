/**
 * The VM test bed itself (src/lab/vm): a real Xen 4.17 host under QEMU whose dom0 runs the
 * host's node and the built bundle. One boot serves every case; the last case makes a job
 * time out (which leaves the VM unusable) and then checks close() leaves nothing behind.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nicMac } from '../../src/lab/vm/qemu.ts';
import { sweepStaleRuns } from '../../src/lab/vm/vm.ts';
import { bootVm, parseSections, requireVm, type XenVm } from '../support/vm.ts';

const ok = requireVm('the VM test bed tests');

/** Host processes whose command line names `dir`. */
function processesNaming(dir: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'latin1').includes(dir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

function netnsList(): string {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
}

describe.runIf(ok)('the Xen VM test bed', () => {
  let vm: XenVm;
  beforeAll(async () => {
    vm = await bootVm('vm');
  }, 300_000);
  afterAll(async () => {
    await vm?.close();
  });

  it('boots Xen 4.17 with a PV dom0 that has eth0, eth1, the host node and Xen services', async () => {
    const r = await vm.run(`
echo @@xl; xl info | grep -E '^(xen_major|xen_minor|nr_cpus)'
echo @@list; xl list | awk 'NR > 1 { print $1, $2 }'
echo @@macs; cat /sys/class/net/eth0/address /sys/class/net/eth1/address
echo @@node; node -e 'console.log(process.version)'
echo @@modules; for m in bonding bridge xen_netback 8021q br_netfilter veth e1000; do grep -q "^$m " /proc/modules && echo $m; done
echo @@bonds; ls /sys/class/net | grep -v bonding_masters | grep -c '^bond' || true
echo @@xenstored; xenstore-read /local/domain/0/name
echo @@writes; touch /etc/xenplan-vm-probe && echo wrote
`);
    expect(r.exitCode, r.output).toBe(0);
    const s = parseSections(r.output);
    expect(s.get('xl')).toMatch(/xen_major\s+: 4\nxen_minor\s+: 17/);
    expect(s.get('list')).toBe('Domain-0 0');
    expect(s.get('macs')).toBe(`${nicMac(0)}\n${nicMac(1)}`);
    expect(s.get('node')).toBe(process.version);
    expect(s.get('modules')?.split('\n')).toEqual([
      'bonding',
      'bridge',
      'xen_netback',
      '8021q',
      'br_netfilter',
      'veth',
      'e1000',
    ]);
    // bonding is loaded with max_bonds=0: no bond0 that nobody asked for
    expect(s.get('bonds')).toBe('0');
    expect(s.get('xenstored')).toBe('Domain-0');
    // dom0 may write anywhere; the host's /etc is untouched
    expect(s.get('writes')).toBe('wrote');
    expect(existsSync('/etc/xenplan-vm-probe')).toBe(false);
  });

  it('returns a job exit status and output, passes env values verbatim', async () => {
    const odd = `it's "quoted" $HOME \`uname\` \\ back\nslash`;
    const r = await vm.run('printf "%s" "$ODD"; echo; echo to-stderr >&2; exit 3', { env: { ODD: odd } });
    expect(r.exitCode).toBe(3);
    expect(r.reason).toBe('exited with status 3');
    expect(r.output).toBe(`${odd}\nto-stderr\n`);
    await expect(vm.run('true', { env: { 'A-B': '1' } })).rejects.toThrow(
      'env name "A-B" is not a shell identifier',
    );
    // and the queue goes on
    expect((await vm.run('echo next')).output).toBe('next\n');
  });

  it('pulls and plugs a cable: dom0 sees eth0 lose carrier and get it back; the gateway answers through it', async () => {
    // e1000's watchdog notices a link change within about 2 s: wait up to 10 s for the value.
    const carrier = async (want: string) =>
      (
        await vm.run(
          `ip link set eth0 up; i=0; while [ "$(cat /sys/class/net/eth0/carrier)" != ${want} ] && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done; cat /sys/class/net/eth0/carrier`,
        )
      ).output.trim();
    expect(await carrier('1')).toBe('1');
    await vm.setLink(0, false);
    expect(await carrier('0')).toBe('0');
    await vm.setLink(0, true);
    expect(await carrier('1')).toBe('1');
    const r = await vm.run(
      'ip address add 192.0.2.11/24 dev eth0 && ping -c 2 -W 2 192.0.2.1 >/dev/null && echo pinged; ip address flush dev eth0; ip link set eth0 down',
    );
    expect(r.output.trim()).toBe('pinged');
    expect(vm.hostCommand(['ip', '-br', 'address', 'show', 'lan']).output).toContain('192.0.2.1/24');
  });

  it('a job that overruns its time is reported, the VM is then unusable, and close() leaves nothing behind', async () => {
    expect((await vm.run('true')).exitCode).toBe(0);
    const r = await vm.run('echo started; sleep 600', { timeoutMs: 3_000 });
    expect(r.exitCode).toBe(-1);
    expect(r.reason).toBe('timed out after 3000 ms');
    expect(r.output).toBe('started\n');
    expect((await vm.run('true')).reason).toMatch(/^the VM is unusable: job \d+ timed out$/);
    const { workDir, netns } = vm;
    expect(processesNaming(workDir).length).toBeGreaterThan(0);
    await vm.close();
    expect(existsSync(workDir)).toBe(false);
    expect(processesNaming(workDir)).toEqual([]);
    expect(netnsList()).not.toContain(netns);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(workDir);
  });
});

describe.runIf(ok)('stale runs', () => {
  it('a run whose owner died is swept: its QEMU stand-in killed, its namespace and work dir removed', async () => {
    const dir = mkdtempSync('/var/tmp/xenplan-vm-');
    const netns = `xpvm-${dir.slice(-6)}`;
    execFileSync('ip', ['netns', 'add', netns]);
    // A dead owner: a child that has exited. A "QEMU" that names the dir on its command line.
    const owner = spawn('true');
    await new Promise((resolve) => owner.once('exit', resolve));
    const qemu = spawn('sh', ['-c', 'sleep 600', dir], { detached: true, stdio: 'ignore' });
    writeFileSync(`${dir}/owner`, String(owner.pid));
    writeFileSync(`${dir}/netns`, netns);
    writeFileSync(`${dir}/qemu.pid`, String(qemu.pid));
    mkdirSync(`${dir}/share`);
    const exited = new Promise((resolve) => qemu.once('exit', resolve));
    expect(sweepStaleRuns()).toContain(dir);
    await exited;
    expect(existsSync(dir)).toBe(false);
    expect(netnsList()).not.toContain(netns);
  });
});
