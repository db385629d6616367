// Statistics, ratios, the printed table and one verdict line per goal of the performance issue.
import { type Execs, summarizeExecs } from './strace.ts';

/** The q-th percentile (0..100), linear between the two nearest ranks (numpy's default). */
export function percentile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const pos = ((sorted.length - 1) * q) / 100;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export const median = (xs: readonly number[]) => percentile(xs, 50);
export const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Median of per-cycle ratios a[i]/b[i]: each pair ran side by side, so machine drift cancels. */
export function pairRatio(a: readonly number[], b: readonly number[]): number {
  return median(a.map((x, i) => x / b[i]!));
}

export interface CaseResult {
  readonly label: string;
  /** The case the `/ Xen` rows divide by: `xen` unless a filtered case names Xen's filtered one. */
  readonly baseline?: string;
  readonly online: number[];
  readonly offline: number[];
  readonly cpuOnline: number[];
  readonly cpuOffline: number[];
  execs?: { online: Execs; offline: Execs };
  peakRssKiB?: number;
  storm?: {
    ms: number[];
    peakPssKiB: number[];
    peakProcesses: number[];
    peakNodes: number[];
    offlineMs: number[];
    failed: number[];
  };
}

export interface Results {
  readonly cases: Record<string, CaseResult>;
  readonly floor: number[];
  readonly floorCpu: number[];
  readonly nodeStart: number[];
  nodeRssKiB?: number;
  agentResident?: { rssKiB: number; pssKiB: number };
  readonly stormSize: number;
  /** The launcher's default slot count on this machine (CPUs, at least 2). */
  readonly slots: number;
}

const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : 'n/a');
const x2 = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}x` : 'n/a');
const mib = (kib: number | undefined) => (kib === undefined ? 'n/a' : (kib / 1024).toFixed(1));

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r, ri) =>
      r
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
        .join('   ')
        .concat(ri === 0 ? `\n${widths.map((w) => '-'.repeat(w)).join('   ')}` : ''),
    )
    .join('\n');
}

export function render(results: Results, header: readonly string[]): string {
  const names = Object.keys(results.cases);
  const c = results.cases;
  const base = (r: CaseResult) => c[r.baseline ?? 'xen']!;
  const cycle = (r: CaseResult) => r.online.map((v, i) => v + r.offline[i]!);
  const rows: string[][] = [['', ...names.map((n) => c[n]!.label)]];
  const row = (label: string, value: (r: CaseResult, name: string) => string) =>
    rows.push([label, ...names.map((n) => value(c[n]!, n))]);
  row('online median (ms)', (r) => f1(median(r.online)));
  row('offline median (ms)', (r) => f1(median(r.offline)));
  row('cycle median (ms)', (r) => f1(median(cycle(r))));
  // A filtered case is divided by Xen's filtered script (its baseline), the others by Xen's.
  row('online / Xen (median of pairs)', (r) => x2(pairRatio(r.online, base(r).online)));
  row('offline / Xen (median of pairs)', (r) => x2(pairRatio(r.offline, base(r).offline)));
  row('cycle / Xen (median of pairs)', (r) => x2(pairRatio(cycle(r), cycle(base(r)))));
  row('online / floor (median of pairs)', (r) => x2(pairRatio(r.online, results.floor)));
  row('offline / floor (median of pairs)', (r) => x2(pairRatio(r.offline, results.floor)));
  row('CPU online, mean (ms)', (r) => f1(mean(r.cpuOnline)));
  row('CPU offline, mean (ms)', (r) => f1(mean(r.cpuOffline)));
  row('execs, one online', (r) => String(r.execs?.online.count ?? 'n/a'));
  row('execs, one offline', (r) => String(r.execs?.offline.count ?? 'n/a'));
  row('peak RSS, one online (MiB)', (r) => mib(r.peakRssKiB));
  row(`${results.stormSize} concurrent onlines (ms)`, (r) => f1(median(r.storm?.ms ?? [])));
  row(`  peak PSS, summed (MiB)`, (r) => mib(median(r.storm?.peakPssKiB ?? [])));
  row('  most processes at once', (r) => String(Math.max(...(r.storm?.peakProcesses ?? [Number.NaN]))));
  row('  most Node processes at once', (r) => String(Math.max(...(r.storm?.peakNodes ?? [Number.NaN]))));
  row(`${results.stormSize} concurrent offlines (ms)`, (r) => f1(median(r.storm?.offlineMs ?? [])));
  row('  storm events that failed', (r) => String((r.storm?.failed ?? []).reduce((a, b) => a + b, 0)));
  const programs = names.flatMap((n) => [
    `  ${n} online:  ${summarizeExecs(c[n]!.execs?.online.programs ?? [])}`,
    `  ${n} offline: ${summarizeExecs(c[n]!.execs?.offline.programs ?? [])}`,
  ]);
  return [
    '',
    ...header,
    '',
    table(rows),
    '',
    `floor (node -e "spawnSync ip -batch"): median ${f1(median(results.floor))} ms, CPU mean ${f1(mean(results.floorCpu))} ms;` +
      ` node -e 0: median ${f1(median(results.nodeStart))} ms, peak RSS ${mib(results.nodeRssKiB)} MiB`,
    `agent resident: RSS ${mib(results.agentResident?.rssKiB)} MiB, PSS ${mib(results.agentResident?.pssKiB)} MiB (once, for all events)`,
    '',
    "programs exec'd (strace -f on the event's process; the agent's own ip is not the launcher's child):",
    ...programs,
    '',
    'time: spawn to exit, by a runner inside the namespace; CPU: the event tree (wait4, 10 ms ticks) plus the agent;',
    'peak RSS: /usr/bin/time %M (largest single process of the event); storm PSS: summed over the',
    "runner's descendants (and the agent), sampled every 100 ms from /proc/PID/smaps_rollup.",
    '',
    ...verdicts(results),
    '',
  ].join('\n');
}

function verdicts(results: Results): string[] {
  const c = results.cases;
  const xen = c.xen!;
  const cold = c.cold;
  const agent = c.agent;
  const lines: string[] = [];
  const mark = (ok: boolean) => (ok ? 'MET    ' : 'NOT MET');
  if (cold) {
    const on = pairRatio(cold.online, results.floor);
    const off = pairRatio(cold.offline, results.floor);
    const cpu = mean([...cold.cpuOnline, ...cold.cpuOffline]) / mean(results.floorCpu);
    lines.push(
      `goal 1 ${mark(on <= 1.1 && off <= 1.1 && cpu <= 1.1)} cold path vs floor: online ${x2(on)}, offline ${x2(off)}, CPU ${x2(cpu)} (goal <= 1.10x)`,
    );
  }
  if (agent) {
    const cyc = pairRatio(
      agent.online.map((v, i) => v + agent.offline[i]!),
      xen.online.map((v, i) => v + xen.offline[i]!),
    );
    const rss = (agent.peakRssKiB ?? Number.POSITIVE_INFINITY) / 1024;
    const storm = median(xen.storm?.ms ?? []) / median(agent.storm?.ms ?? []);
    // Throughput counts only when every event of the storm did its job.
    const failed = (agent.storm?.failed ?? []).reduce((a, b) => a + b, 0);
    lines.push(
      `goal 2 ${mark(cyc <= 0.3 && rss <= 5 && storm >= 3 && failed === 0)} fast path: cycle ${x2(cyc)} of Xen's (goal <= 0.30x), ${rss.toFixed(1)} MiB per event (<= 5), ${results.stormSize} concurrent ${x2(storm)} Xen's throughput (>= 3x)${failed > 0 ? `, but ${failed} storm events failed` : ''}`,
    );
  }
  const launcher = c.launcher;
  if (launcher?.storm && xen.storm) {
    const pss = (r: CaseResult | undefined) => median(r?.storm?.peakPssKiB ?? []);
    const nodes = Math.max(...launcher.storm.peakNodes);
    const failed = launcher.storm.failed.reduce((a, b) => a + b, 0);
    // Bounded: never more Node processes than slots at once, every event done.
    lines.push(
      `goal 3 ${mark(nodes <= results.slots && failed === 0)} boot storm of ${results.stormSize} on the cold path (launcher, ${results.slots} slots): at most ${nodes} Node processes at once${cold?.storm ? ` (without slots: ${Math.max(...cold.storm.peakNodes)})` : ''}; peak PSS summed: Xen ${mib(pss(xen))} MiB, launcher ${mib(pss(launcher))} MiB (${x2(pss(launcher) / pss(xen))}), cold without slots ${mib(pss(cold))} MiB, agent ${mib(pss(agent))} MiB${failed > 0 ? `; ${failed} storm events failed` : ''}`,
    );
  }
  lines.push('goal 4 see README, Performance: these rows, with the date, load and node -e 0 of the run');
  // Antispoofing on (the filtered cases): xenplan's nft transaction against Xen's iptables rules.
  const ipt = c['xen+ipt'];
  if (ipt) {
    const cyc = (r: CaseResult) => r.online.map((v, i) => v + r.offline[i]!);
    const parts = ['cold+nft', 'agent+nft'].flatMap((name) => {
      const r = c[name];
      if (!r) return [];
      const storm = median(ipt.storm?.ms ?? []) / median(r.storm?.ms ?? []);
      return [
        `${name} cycle ${x2(pairRatio(cyc(r), cyc(ipt)))}, ${results.stormSize} concurrent ${x2(storm)} throughput`,
      ];
    });
    lines.push(`filtered vs Xen's vif-bridge + iptables: ${parts.join('; ')}`);
  }
  return lines;
}
