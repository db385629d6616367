import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Where scripts/bench.mjs keeps Xen's unpacked hotplug scripts too (git-ignored). */
const CACHE = resolve('.tmp/xen-scripts');
const SCRIPTS = join(CACHE, 'root', 'etc', 'xen', 'scripts');

/**
 * Xen 4.17's hotplug scripts from Debian's xen-utils-common (`apt-get download` + `dpkg -x`,
 * nothing installed), copied to a fresh folder with the iptables step of vif-common.sh that
 * Debian disables (`handle_iptable` starts with `return 0`, Debian bug #894013) enabled again,
 * so vif-bridge runs it as upstream does. Returns the folder holding vif-bridge.
 */
export function upstreamVifBridge(): string {
  if (!existsSync(join(SCRIPTS, 'vif-bridge'))) {
    mkdirSync(CACHE, { recursive: true });
    const download = () =>
      spawnSync('apt-get', ['download', 'xen-utils-common'], { cwd: CACHE, encoding: 'utf8' });
    if (download().status !== 0) {
      execFileSync('apt-get', ['update', '-qq']);
      const again = download();
      if (again.status !== 0) throw new Error(`apt-get download xen-utils-common failed: ${again.stderr}`);
    }
    const deb = readdirSync(CACHE).find((f) => /^xen-utils-common_.*\.deb$/.test(f));
    if (!deb) throw new Error('apt-get download left no xen-utils-common .deb');
    execFileSync('dpkg', ['-x', join(CACHE, deb), join(CACHE, 'root')]);
  }
  const dir = mkdtempSync(join(tmpdir(), 'xenplan-xen-scripts-'));
  enableXenIptables(SCRIPTS, dir);
  return dir;
}

/**
 * Xen's scripts in `from` copied to `to` with vif-common.sh's iptables step, which Debian
 * disables (`handle_iptable` starts with `return 0`, Debian bug #894013), enabled again:
 * vif-bridge then inserts its per-vif physdev ACCEPT rules as upstream does. The bench's
 * filtered baseline uses it too.
 */
export function enableXenIptables(from: string, to: string): void {
  cpSync(from, to, { recursive: true });
  const common = join(to, 'vif-common.sh');
  const text = readFileSync(common, 'utf8');
  const enabled = text.replace(/(handle_iptable\(\)\n\{\n(?:\s*#.*\n)*)\s*return 0\n/, '$1');
  if (enabled === text)
    throw new Error(`no disabled handle_iptable in ${common}: has Debian's packaging changed?`);
  writeFileSync(common, enabled);
}
