// npm run bench [-- --cycles N] [--json FILE] [--build]
//
// xenplan's vif-script side by side with Xen 4.17's own vif-bridge (Debian's xen-utils-common,
// unpacked into .tmp/xen-scripts, never installed): the same online/offline events for the
// same vif, in the same dom0 namespace, against the same xenstore stand-in, with the same
// environment (libxl's). Reports wall time per event and per cycle, the programs each side
// execs for one event (strace), the peak RSS of one online (/usr/bin/time), and the ratios
// xen / xenplan. A benchmark only: nothing here asserts a time.
//
// Needs root (network namespace, bind mounts, strace). Cleans up its namespace, processes and
// temp directory on exit, on error and on Ctrl-C.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { percentile, renderReport } from './bench/report.mjs';
import { countExecs, summarizeExecs } from './bench/strace.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BUNDLE = join(ROOT, 'dist', 'xenplan.cjs');
const XEN_CACHE = join(ROOT, '.tmp', 'xen-scripts');
const XEN_SCRIPTS = join(XEN_CACHE, 'root', 'etc', 'xen', 'scripts');
const VIF_BRIDGE = join(XEN_SCRIPTS, 'vif-bridge');
const RUNNER = join(ROOT, 'scripts', 'bench', 'runner.mjs');
const DOMID = 5;
const DEVID = 0;
const VIF = `vif${DOMID}.${DEVID}`;
const BACKEND = `backend/vif/${DOMID}/${DEVID}`;
const FRONTEND = `/local/domain/${DOMID}/device/vif/${DEVID}`;
const BRIDGE = 'xenbr0';
const BRIDGE_MTU = '9000';

// ---------------------------------------------------------------- arguments

const USAGE = `Usage: node scripts/bench.mjs [--cycles N] [--json FILE] [--build]
  --cycles N   online+offline cycles per side, interleaved (default 20)
  --json FILE  also write every sample and the summary to FILE
  --build      rebuild dist/xenplan.cjs first (it is built anyway when missing)
Runs as root: it makes a network namespace, bind mounts inside it, and runs strace.`;

function parseArgs(argv) {
  const options = { cycles: 20, json: undefined, build: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') fail(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (flag === '--cycles') {
      const v = value();
      if (!/^[1-9][0-9]{0,4}$/.test(v))
        fail(`--cycles ${JSON.stringify(v)} is not a whole number from 1 to 99999`);
      options.cycles = Number(v);
    } else if (flag === '--json') options.json = value();
    else if (flag === '--build') options.build = true;
    else fail(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
  }
  return options;
}

function fail(message) {
  console.error(`bench: ${message}`);
  cleanup();
  process.exit(1);
}

// ---------------------------------------------------------------- cleanup

const state = { netns: undefined, dir: undefined, children: [] };

/** Synchronous, idempotent: safe from a signal handler and from `finally`. */
function cleanup() {
  for (const child of state.children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill('SIGTERM');
      } catch {
        // already gone
      }
    }
  }
  if (state.netns) {
    spawnSync('ip', ['netns', 'del', state.netns], { stdio: 'ignore' });
    state.netns = undefined;
  }
  if (state.dir) {
    rmSync(state.dir, { recursive: true, force: true });
    state.dir = undefined;
  }
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    console.error(`\nbench: ${signal}: cleaning up`);
    cleanup();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

// ---------------------------------------------------------------- prerequisites

function have(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** Installs the Debian packages the bench needs, only those missing (we are root, like deps.sh). */
function ensurePackages() {
  const want = {
    ip: 'iproute2',
    'xenstore-read': 'xenstore-utils',
    strace: 'strace',
    '/usr/bin/time': 'time',
    logger: 'bsdutils',
    flock: 'util-linux',
    mount: 'mount',
    bash: 'bash',
    dpkg: 'dpkg',
  };
  const missing = [
    ...new Set(
      Object.entries(want)
        .filter(([cmd]) => !have(cmd))
        .map(([, pkg]) => pkg),
    ),
  ].sort();
  if (missing.length === 0) return;
  if (!have('apt-get')) fail(`missing Debian packages ${missing.join(' ')} and no apt-get to install them`);
  console.log(`bench: installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
    stdio: 'inherit',
    env,
  });
}

function ensureBundle(force) {
  if (force || !existsSync(BUNDLE))
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  if (!existsSync(BUNDLE)) fail(`${BUNDLE} is missing after the build`);
}

/** Xen's scripts: `apt-get download xen-utils-common` + `dpkg -x` into the git-ignored cache, once. */
function ensureXenScripts() {
  if (existsSync(VIF_BRIDGE)) return debVersion();
  mkdirSync(XEN_CACHE, { recursive: true });
  const download = () =>
    spawnSync('apt-get', ['download', 'xen-utils-common'], {
      cwd: XEN_CACHE,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  console.log('bench: fetching Xen 4.17 hotplug scripts (apt-get download xen-utils-common)');
  let result = download();
  if (result.status !== 0) {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    result = download();
  }
  const deb = debFile();
  if (result.status !== 0 || !deb) fail(`apt-get download xen-utils-common failed:\n${result.stderr}`);
  execFileSync('dpkg', ['-x', join(XEN_CACHE, deb), join(XEN_CACHE, 'root')]);
  if (!existsSync(VIF_BRIDGE)) fail(`${VIF_BRIDGE} is not in ${deb}`);
  return debVersion();
}

function debFile() {
  return existsSync(XEN_CACHE)
    ? readdirSync(XEN_CACHE).find((f) => /^xen-utils-common_.*\.deb$/.test(f))
    : undefined;
}

function debVersion() {
  return (
    debFile()
      ?.replace(/^xen-utils-common_/, '')
      .replace(/_[^_]+\.deb$/, '') ?? 'unknown'
  );
}

// ---------------------------------------------------------------- the lab

function ip(...args) {
  return execFileSync('ip', ['-n', state.netns, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function link(name) {
  const result = spawnSync('ip', ['-n', state.netns, '-json', 'link', 'show', 'dev', name], {
    encoding: 'utf8',
  });
  if (result.status !== 0) return undefined;
  return JSON.parse(result.stdout)[0];
}

function xenstore(command, args) {
  return spawnSync(command, args, {
    encoding: 'utf8',
    env: { ...process.env, XENSTORED_PATH: state.socket },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function xenstoreRead(path) {
  const result = xenstore('xenstore-read', [path]);
  return result.status === 0 ? result.stdout.replace(/\n$/, '') : undefined;
}

/** Starts a child and resolves once a line of its stdout satisfies `isReady`. */
function startChild(command, args, isReady, what) {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  state.children.push(child);
  const lines = createInterface({ input: child.stdout });
  return new Promise((resolve, reject) => {
    const onExit = (code, signal) =>
      reject(new Error(`${what} exited (${code ?? signal}) before it was ready`));
    child.once('exit', onExit);
    child.once('error', reject);
    lines.on('line', (line) => {
      if (!isReady(line)) return;
      child.off('exit', onExit);
      resolve({ child, lines });
    });
  });
}

/** The runner in the dom0 namespace: one request at a time. */
class Runner {
  constructor(child, lines) {
    this.child = child;
    this.next = 1;
    this.pending = new Map();
    lines.on('line', (line) => {
      const reply = JSON.parse(line);
      this.pending.get(reply.id)?.(reply);
      this.pending.delete(reply.id);
    });
    child.once('exit', (code, signal) => {
      for (const resolve of this.pending.values())
        resolve({
          status: null,
          signal,
          ms: 0,
          stdout: '',
          stderr: '',
          error: `runner exited (${code ?? signal})`,
        });
      this.pending.clear();
    });
  }

  run(argv, env) {
    const id = this.next++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.child.stdin.write(`${JSON.stringify({ id, argv, env })}\n`);
    });
  }

  stop() {
    this.child.stdin.end();
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) resolve();
      else this.child.once('exit', resolve);
    });
  }
}

// ---------------------------------------------------------------- the two sides

/**
 * A brand-new vif (random MAC, MTU 1500, down, no master) and no hotplug keys, so each online
 * starts from the same state. Two processes: one `ip -batch`, one `xenstore-rm` (which ignores
 * paths already gone).
 */
function freshVif() {
  const commands = `${state.vifExists ? `link del ${VIF}\n` : ''}link add ${VIF} type veth peer name g${DOMID}.${DEVID}\n`;
  execFileSync('ip', ['-n', state.netns, '-batch', '-'], {
    input: commands,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  state.vifExists = true;
  const rm = xenstore('xenstore-rm', [
    `${BACKEND}/hotplug-status`,
    `${BACKEND}/hotplug-error`,
    `${FRONTEND}/mtu`,
  ]);
  if (rm.status !== 0) throw new Error(`xenstore-rm of the hotplug keys failed: ${rm.stderr}`);
}

function xenLogTail() {
  const file = join(state.dir, 'varlog', 'xen', 'xen-hotplug.log');
  const text = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  // Its `log` lines go to syslog through logger (none in the lab); stderr lands in this file.
  return text === '' ? '(empty)' : text.split('\n').slice(-25).join('\n');
}

/** Fails the bench loudly (no numbers) when an event did not do its job. */
function check(side, event, run) {
  const problems = [];
  if (run.status !== 0)
    problems.push(`exit status ${run.status ?? run.signal}${run.error ? ` (${run.error})` : ''}`);
  const vif = link(VIF);
  if (event === 'online') {
    if (vif?.master !== BRIDGE) problems.push(`${VIF} is not in ${BRIDGE} (master ${vif?.master ?? 'none'})`);
    if (!vif?.flags?.includes('UP')) problems.push(`${VIF} is not up`);
    // Both sides must have done the same job: the bridge's MTU and Xen's dummy MAC on the vif.
    if (String(vif?.mtu) !== BRIDGE_MTU) problems.push(`${VIF} mtu is ${vif?.mtu}, expected ${BRIDGE_MTU}`);
    if (vif?.address !== 'fe:ff:ff:ff:ff:ff')
      problems.push(`${VIF} address is ${vif?.address}, expected fe:ff:ff:ff:ff:ff`);
    const status = xenstoreRead(`${BACKEND}/hotplug-status`);
    if (status !== 'connected')
      problems.push(
        `hotplug-status is ${status === undefined ? 'missing' : JSON.stringify(status)}, expected "connected"`,
      );
  } else if (vif?.master !== undefined) problems.push(`${VIF} is still in ${vif.master}`);
  if (problems.length === 0) return;
  const detail = [
    `${side.name} ${event} did not do its job: ${problems.join('; ')}`,
    `argv: ${side.argv(event).join(' ')}`,
    run.stderr ? `stderr:\n${run.stderr}` : 'stderr: (empty)',
  ];
  const error = xenstoreRead(`${BACKEND}/hotplug-error`);
  if (error !== undefined) detail.push(`hotplug-error: ${error}`);
  if (side.name === 'xen') detail.push(`/var/log/xen/xen-hotplug.log (tail):\n${xenLogTail()}`);
  throw new BenchFailure(detail.join('\n'));
}

class BenchFailure extends Error {}

// ---------------------------------------------------------------- main

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) {
    console.error(
      'bench: must run as root (it makes a network namespace, bind mounts inside it, and runs strace); try: sudo npm run bench',
    );
    process.exit(1);
  }
  ensurePackages();
  ensureBundle(options.build);
  const xenVersion = ensureXenScripts();
  const started = Date.now();

  // Temp dir: xenstored socket, xenplan's log and run dirs, the vif-script symlink, and the
  // directories bind-mounted over /var/log and /run inside the namespace for Xen's scripts.
  state.dir = mkdtempSync(join(tmpdir(), 'xenplan-bench-'));
  state.socket = join(state.dir, 'xenstored.sock');
  const bin = join(state.dir, 'bin');
  for (const d of ['bin', 'varlog/xen', 'run/xen-hotplug', 'log', 'rundir', 'trace'])
    mkdirSync(join(state.dir, d), { recursive: true });
  // A copy of the bundle, so a rebuild by someone else mid-run cannot mix two versions.
  const bundle = join(state.dir, 'xenplan.cjs');
  const bundleStat = statSync(BUNDLE);
  copyFileSync(BUNDLE, bundle);
  chmodSync(bundle, 0o755);
  symlinkSync(bundle, join(bin, 'vif-script'));

  const seed = join(state.dir, 'seed.json');
  writeFileSync(
    seed,
    JSON.stringify({
      [`${BACKEND}/frontend`]: FRONTEND,
      [`${BACKEND}/mac`]: '00:16:3e:00:05:00',
      [`${BACKEND}/bridge`]: BRIDGE,
      [`${BACKEND}/script`]: '/etc/xen/scripts/vif-bridge',
      [`${FRONTEND}/backend`]: `/local/domain/0/${BACKEND}`,
    }),
  );
  await startChild(
    process.execPath,
    [bundle, 'xenstored', '--socket', state.socket, '--seed', seed],
    (l) => l.includes('ready'),
    'xenstored stand-in',
  );

  // dom0: xenbr0 (MTU 9000, over an uplink veth) up; the vif is re-created before each online.
  state.netns = `xpt-bench-${process.pid}`;
  execFileSync('ip', ['netns', 'add', state.netns]);
  ip('link', 'set', 'lo', 'up');
  ip('link', 'add', BRIDGE, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0');
  ip('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'up0');
  ip('link', 'set', 'eth0', 'mtu', BRIDGE_MTU);
  ip('link', 'set', 'up0', 'mtu', BRIDGE_MTU);
  ip('link', 'set', 'eth0', 'master', BRIDGE);
  ip('link', 'set', BRIDGE, 'mtu', BRIDGE_MTU);
  for (const dev of ['up0', 'eth0', BRIDGE]) ip('link', 'set', dev, 'up');

  // `ip netns exec` gives the runner a private (slave) mount namespace: /var/log/xen and
  // /var/run/xen-hotplug exist there for Xen's scripts, and nothing on the machine changes.
  const { child, lines } = await startChild(
    'ip',
    [
      'netns',
      'exec',
      state.netns,
      'sh',
      '-c',
      'mount --bind "$1" /var/log && mount --bind "$2" /run && exec "$3" "$4"',
      'sh',
      join(state.dir, 'varlog'),
      join(state.dir, 'run'),
      process.execPath,
      RUNNER,
    ],
    (l) => l.startsWith('{"ready"'),
    'runner',
  );
  const runner = new Runner(child, lines);

  // The same environment for both: libxl's (tools/libs/light/libxl_linux.c) plus the lab's.
  const env = {
    PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    XENSTORED_PATH: state.socket,
    XENPLAN_LOG_DIR: join(state.dir, 'log'),
    XENPLAN_RUN_DIR: join(state.dir, 'rundir'),
    script: '/etc/xen/scripts/vif-bridge',
    XENBUS_TYPE: 'vif',
    XENBUS_PATH: BACKEND,
    XENBUS_BASE_PATH: 'backend',
    netdev: '',
    vif: VIF,
  };
  const sides = [
    {
      name: 'xen',
      label: `Xen ${xenVersion.replace(/\+.*/, '')} vif-bridge`,
      argv: (event) => [VIF_BRIDGE, event, 'type_if=vif'],
    },
    {
      name: 'xenplan',
      label: 'xenplan vif-script',
      argv: (event) => [join(bin, 'vif-script'), event, 'type_if=vif'],
    },
  ];

  const event = async (side, what, wrap = []) => {
    if (what === 'online') freshVif();
    const run = await runner.run([...wrap, ...side.argv(what)], env);
    check(side, what, run);
    return run;
  };

  // 1. Programs exec'd per event (strace, once per side; also the warm-up).
  const execs = {};
  for (const side of sides) {
    execs[side.name] = {};
    for (const what of ['online', 'offline']) {
      const file = join(state.dir, 'trace', `${side.name}-${what}.strace`);
      await event(side, what, ['strace', '-f', '-qq', '-e', 'trace=execve', '-o', file]);
      execs[side.name][what] = countExecs(readFileSync(file, 'utf8'));
    }
  }

  // 2. Peak RSS of one online: /usr/bin/time -f %M (wait4's ru_maxrss: the largest RSS of any
  //    one process in the event's tree, the script itself or a child it waited for).
  const rssKiB = {};
  const timeRss = async (argv) => {
    const file = join(state.dir, 'trace', 'rss');
    const run = await runner.run(['/usr/bin/time', '-f', '%M', '-o', file, ...argv], env);
    return { run, kib: Number(readFileSync(file, 'utf8').trim().split('\n').pop()) };
  };
  for (const side of sides) {
    freshVif();
    const { run, kib } = await timeRss(side.argv('online'));
    check(side, 'online', run);
    rssKiB[side.name] = kib;
    await event(side, 'offline');
  }
  rssKiB.node = (await timeRss([process.execPath, '-e', '0'])).kib;

  // 3. Timed cycles, interleaved (the order alternates each cycle) so both share machine noise.
  const samples = Object.fromEntries(sides.map((s) => [s.name, { online: [], offline: [], cycle: [] }]));
  samples.node = [];
  process.stdout.write(`bench: ${options.cycles} cycles `);
  for (let c = 0; c < options.cycles; c++) {
    const order = c % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) {
      const on = await event(side, 'online');
      const off = await event(side, 'offline');
      samples[side.name].online.push(on.ms);
      samples[side.name].offline.push(off.ms);
      samples[side.name].cycle.push(on.ms + off.ms);
    }
    const node = await runner.run([process.execPath, '-e', '0'], env);
    if (node.status !== 0) throw new BenchFailure(`node -e 0 failed: ${node.stderr}`);
    samples.node.push(node.ms);
    process.stdout.write('.');
  }
  process.stdout.write('\n');
  await runner.stop();

  const stat = (xs) => ({
    median: percentile(xs, 50),
    p90: percentile(xs, 90),
    min: Math.min(...xs),
    max: Math.max(...xs),
  });
  const summary = {};
  for (const side of sides) {
    const s = samples[side.name];
    summary[side.name] = {
      label: side.label,
      onlineMs: stat(s.online),
      offlineMs: stat(s.offline),
      cycleMs: stat(s.cycle),
      execs: {
        online: execs[side.name].online.count,
        offline: execs[side.name].offline.count,
        onlineProcesses: execs[side.name].online.processes,
        offlineProcesses: execs[side.name].offline.processes,
        onlinePrograms: summarizeExecs(execs[side.name].online.programs),
        offlinePrograms: summarizeExecs(execs[side.name].offline.programs),
      },
      peakRssKiB: rssKiB[side.name],
    };
  }
  summary.node = { label: 'node -e 0', startMs: stat(samples.node), peakRssKiB: rssKiB.node };
  const ratio = (a, b) => (b > 0 ? a / b : null);
  const x = summary.xen;
  const p = summary.xenplan;
  summary.ratios = {
    onlineMedian: ratio(x.onlineMs.median, p.onlineMs.median),
    onlineP90: ratio(x.onlineMs.p90, p.onlineMs.p90),
    offlineMedian: ratio(x.offlineMs.median, p.offlineMs.median),
    offlineP90: ratio(x.offlineMs.p90, p.offlineMs.p90),
    cycleMedian: ratio(x.cycleMs.median, p.cycleMs.median),
    cycleP90: ratio(x.cycleMs.p90, p.cycleMs.p90),
    execsOnline: ratio(x.execs.online, p.execs.online),
    execsOffline: ratio(x.execs.offline, p.execs.offline),
    processesOnline: ratio(x.execs.onlineProcesses, p.execs.onlineProcesses),
    processesOffline: ratio(x.execs.offlineProcesses, p.execs.offlineProcesses),
    peakRss: ratio(x.peakRssKiB, p.peakRssKiB),
  };

  const context = {
    date: new Date().toISOString(),
    cycles: options.cycles,
    node: process.version,
    kernel: release(),
    xenUtilsCommon: xenVersion,
    bundleBytes: bundleStat.size,
    bundleBuilt: bundleStat.mtime.toISOString(),
    seconds: (Date.now() - started) / 1000,
    timing:
      'wall time from spawn to exit of the script, measured by a runner inside the dom0 namespace (no `ip netns exec` in it)',
    execs:
      'successful execve calls under strace -f (the script itself included), one event per side; processes: distinct pids among them',
    peakRss:
      '/usr/bin/time -f %M: wait4 ru_maxrss, the largest resident set of any one process in the event (the script or a child it waited for)',
  };
  console.log(renderReport(summary, context));
  if (options.json) {
    writeFileSync(options.json, `${JSON.stringify({ context, summary, samples }, null, 2)}\n`);
    console.log(`bench: wrote ${options.json}`);
  }
}

try {
  await main();
  cleanup();
} catch (error) {
  cleanup();
  if (error instanceof BenchFailure) console.error(`bench: FAILED, no numbers reported.\n${error.message}`);
  else console.error(`bench: FAILED: ${error?.stack ?? error}`);
  process.exit(1);
}
