// npm run bench [-- --cycles N] [--storm N] [--storms N] [--json FILE]
//
// Every way xenplan runs a vif event (cases.ts: the cold path, the agent) side by side with
// Xen 4.17's own vif-bridge: the same online/offline events for the same vif, in the same
// dom0 namespace, against the same xenstore stand-in, with libxl's environment; interleaved
// (the order turns each cycle) and reported as medians of per-cycle ratios, plus a floor (Node
// starting and running one ip -batch), CPU, execs, RSS, and a boot storm of N concurrent
// events. A benchmark only: nothing here asserts a time. Needs root.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { join } from 'node:path';
import { type Case, cases, type Event, floorArgv } from './cases.ts';
import { BenchFailure, DOMID, ensurePackages, ensureXenScripts, Lab, residentOf, vifOf } from './lab.ts';
import { type CaseResult, type Results, render } from './report.ts';
import { countExecs } from './strace.ts';

const USAGE = `Usage: npm run bench -- [--cycles N] [--storm N] [--storms N] [--json FILE]
  --cycles N   online+offline cycles per case, interleaved (default 20)
  --storm N    concurrent onlines (then offlines) in the boot storm (default 100; 0: none)
  --storms N   storms per case, the order turning each time (default 2)
  --json FILE  also write every sample to FILE
Runs as root: it makes a network namespace, bind mounts inside it, and runs strace.`;

interface Options {
  cycles: number;
  storm: number;
  storms: number;
  json: string | undefined;
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { cycles: 20, storm: 100, storms: 2, json: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, undefined];
    const value = () => inline ?? argv[++i] ?? '';
    const count = (min: number) => {
      const v = value();
      if (!/^[0-9]{1,5}$/.test(v) || Number(v) < min)
        throw new BenchFailure(`${flag} ${JSON.stringify(v)}: expected a whole number from ${min} to 99999`);
      return Number(v);
    };
    if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (flag === '--cycles') options.cycles = count(1);
    else if (flag === '--storm') options.storm = count(0);
    else if (flag === '--storms') options.storms = count(1);
    else if (flag === '--json') options.json = value() || undefined;
    else throw new BenchFailure(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
  }
  return options;
}

const ROOT = process.env.XENPLAN_ROOT ?? process.cwd();

async function main(lab: Lab, options: Options, xenVersion: string): Promise<void> {
  const started = Date.now();
  await lab.start();
  const all = cases(lab, lab.paths.vifBridge, xenVersion);
  const env = (c: Case, domid: number) => ({ ...lab.env(domid), ...(c.env ?? {}) });
  const results: Results = {
    cases: Object.fromEntries(
      all.map((c): [string, CaseResult] => [
        c.name,
        {
          label: c.label,
          online: [],
          offline: [],
          cpuOnline: [],
          cpuOffline: [],
          ...(c.baseline === undefined ? {} : { baseline: c.baseline }),
        },
      ]),
    ),
    floor: [],
    floorCpu: [],
    nodeStart: [],
    stormSize: options.storm,
    slots: Math.max(2, cpus().length),
  };
  const result = (c: Case) => results.cases[c.name]!;

  const event = async (c: Case, what: Event, wrap: string[] = []) => {
    if (what === 'online') lab.freshVifs([DOMID]);
    const run = await lab.run([...wrap, ...c.argv(what)], env(c, DOMID), c.pids());
    if (run.status !== 0)
      throw new BenchFailure(
        `${c.label} ${what} exited ${run.status ?? run.signal}: ${run.error ?? ''}${run.stderr}`,
      );
    lab.check(c.label, what, [DOMID]);
    return run;
  };

  // 1. Programs exec'd per event (strace, once per case; also the warm-up and the code cache).
  for (const c of all) {
    const execs = { online: countExecs(''), offline: countExecs('') };
    for (const what of ['online', 'offline'] as const) {
      const file = join(lab.dir, 'trace', `${c.name}-${what}.strace`);
      await event(c, what, ['strace', '-f', '-qq', '-e', 'trace=execve', '-o', file]);
      execs[what] = countExecs(readFileSync(file, 'utf8'));
    }
    result(c).execs = execs;
  }

  // 2. Peak RSS of one online: /usr/bin/time -f %M (wait4's ru_maxrss: the largest of any one process).
  const timeRss = async (argv: string[], e: Record<string, string>) => {
    const file = join(lab.dir, 'trace', 'rss');
    const run = await lab.run(['/usr/bin/time', '-f', '%M', '-o', file, ...argv], e);
    if (run.status !== 0) throw new BenchFailure(`${argv.join(' ')}: ${run.stderr}`);
    return Number(readFileSync(file, 'utf8').trim().split('\n').pop());
  };
  for (const c of all) {
    lab.freshVifs([DOMID]);
    result(c).peakRssKiB = await timeRss(c.argv('online'), env(c, DOMID));
    lab.check(c.label, 'online', [DOMID]);
    await event(c, 'offline');
  }
  results.nodeRssKiB = await timeRss([process.execPath, '-e', '0'], lab.env(DOMID));
  results.agentResident = residentOf(lab.agentPid);

  // 3. Timed cycles, interleaved: the order turns each cycle, so all share the machine's noise.
  process.stdout.write(`bench: ${options.cycles} cycles `);
  for (let i = 0; i < options.cycles; i++) {
    const order = all.map((_, k) => all[(k + i) % all.length]!);
    for (const c of order) {
      const on = await event(c, 'online');
      const off = await event(c, 'offline');
      result(c).online.push(on.ms);
      result(c).offline.push(off.ms);
      result(c).cpuOnline.push(on.cpuMs);
      result(c).cpuOffline.push(off.cpuMs);
    }
    const floor = await lab.run(floorArgv(vifOf(DOMID)), lab.env(DOMID));
    const node = await lab.run([process.execPath, '-e', '0'], lab.env(DOMID));
    if (floor.status !== 0 || node.status !== 0)
      throw new BenchFailure(`floor or node -e 0 failed: ${floor.stderr}${node.stderr}`);
    results.floor.push(floor.ms);
    results.floorCpu.push(floor.cpuMs);
    results.nodeStart.push(node.ms);
    process.stdout.write('.');
  }
  process.stdout.write('\n');

  // 4. Boot storm: N guests' onlines at once, then their offlines.
  if (options.storm > 0) {
    const domids = lab.stormDomids();
    for (let s = 0; s < options.storms; s++) {
      const order = s % 2 === 0 ? all : [...all].reverse();
      for (const c of order) {
        process.stdout.write(`bench: storm ${s + 1}/${options.storms}, ${c.name}\n`);
        lab.freshVifs(domids);
        const argv = (what: Event) => domids.map((d) => ['env', ...envWords(env(c, d)), ...c.argv(what)]);
        // A storm is a measurement: events that failed (on a starved machine, the 30 s
        // deadline) are counted and shown, not a reason to drop every number.
        const on = await lab.storm(argv('online'), env(c, DOMID), c.pids());
        const failedOn = lab.problems('online', domids);
        const off = await lab.storm(argv('offline'), env(c, DOMID), c.pids());
        const failedOff = lab.problems('offline', domids);
        for (const [what, failed, reply] of [
          ['online', failedOn, on],
          ['offline', failedOff, off],
        ] as const)
          if (failed.length > 0) {
            const said = reply.stderr.find((e) => e.trim() !== '') ?? '(no stderr)';
            console.log(
              `bench: ${c.name} storm: ${failed.length} ${what}(s) failed, e.g. ${failed[0]}: ${said.trim().split('\n')[0]}`,
            );
          }
        const r = result(c);
        r.storm ??= { ms: [], peakPssKiB: [], peakProcesses: [], peakNodes: [], offlineMs: [], failed: [] };
        r.storm.failed.push(failedOn.length + failedOff.length);
        r.storm.ms.push(on.ms);
        r.storm.peakPssKiB.push(on.peakPssKiB);
        r.storm.peakProcesses.push(on.peakProcesses);
        r.storm.peakNodes.push(Math.max(on.peakNodes, off.peakNodes));
        r.storm.offlineMs.push(off.ms);
      }
    }
  }

  const bundle = statSync(lab.paths.bundle);
  const header = [
    `vif bench: ${options.cycles} interleaved online+offline cycles per case, ${options.storm} concurrent events x ${options.storms}, in ${((Date.now() - started) / 1000).toFixed(0)} s`,
    `${new Date().toISOString()}, node ${process.version}, kernel ${release()}, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, xen-utils-common ${xenVersion}, bundle ${(bundle.size / 1024).toFixed(1)} KiB`,
  ];
  console.log(render(results, header));
  if (options.json) {
    writeFileSync(options.json, `${JSON.stringify({ header, results }, null, 2)}\n`);
    console.log(`bench: wrote ${options.json}`);
  }
}

/** `env NAME=VALUE...` words: one storm runs every guest with its own libxl environment. */
function envWords(env: Record<string, string>): string[] {
  return Object.entries(env).map(([k, v]) => `${k}=${v}`);
}

const cache = join(ROOT, '.tmp', 'xen-scripts');
const paths = {
  root: ROOT,
  bundle: join(ROOT, 'dist', 'xenplan.cjs'),
  runner: join(ROOT, '.tmp', 'bench', 'runner.mjs'),
  launcher: join(ROOT, 'bin', 'vif-xenplan'),
  vifBridge: join(cache, 'root', 'etc', 'xen', 'scripts', 'vif-bridge'),
};
let lab: Lab | undefined;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
  process.on(signal, () => {
    console.error(`\nbench: ${signal}: cleaning up`);
    lab?.cleanup();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
try {
  const options = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0)
    throw new BenchFailure('must run as root (network namespace, bind mounts, strace)');
  ensurePackages();
  const xenVersion = ensureXenScripts(cache, paths.vifBridge);
  lab = new Lab(paths, options.storm);
  await main(lab, options, xenVersion);
  lab.cleanup();
} catch (error) {
  lab?.cleanup();
  if (error instanceof BenchFailure) console.error(`bench: FAILED, no numbers reported.\n${error.message}`);
  else console.error(`bench: FAILED: ${(error as Error)?.stack ?? error}`);
  process.exit(1);
}
