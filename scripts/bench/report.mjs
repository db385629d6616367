// Statistics and the printed table for scripts/bench.mjs.

/** The q-th percentile (0..100) of xs, linear between the two nearest ranks (numpy's default). */
export function percentile(xs, q) {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const pos = ((sorted.length - 1) * q) / 100;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

const ms = (v) => v.toFixed(1);
const times = (v) => (v === null || !Number.isFinite(v) ? 'n/a' : `${v.toFixed(2)}x`);
const programs = (counts) =>
  Object.entries(counts)
    .map(([name, n]) => (n > 1 ? `${name} x${n}` : name))
    .join(', ');

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows
    .map((r, ri) =>
      r
        .map((cell, i) => (i === 0 ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i])))
        .join('   ')
        .concat(ri === 0 ? `\n${widths.map((w) => '-'.repeat(w)).join('   ')}` : ''),
    )
    .join('\n');
}

export function renderReport(summary, context) {
  const { xen: x, xenplan: p, node: n, ratios: r } = summary;
  const rows = [
    ['', x.label, p.label, 'xen / xenplan'],
    ['online  median (ms)', ms(x.onlineMs.median), ms(p.onlineMs.median), times(r.onlineMedian)],
    ['online  p90 (ms)', ms(x.onlineMs.p90), ms(p.onlineMs.p90), times(r.onlineP90)],
    ['offline median (ms)', ms(x.offlineMs.median), ms(p.offlineMs.median), times(r.offlineMedian)],
    ['offline p90 (ms)', ms(x.offlineMs.p90), ms(p.offlineMs.p90), times(r.offlineP90)],
    ['cycle   median (ms)', ms(x.cycleMs.median), ms(p.cycleMs.median), times(r.cycleMedian)],
    ['cycle   p90 (ms)', ms(x.cycleMs.p90), ms(p.cycleMs.p90), times(r.cycleP90)],
    ['execs, one online', x.execs.online, p.execs.online, times(r.execsOnline)],
    ['execs, one offline', x.execs.offline, p.execs.offline, times(r.execsOffline)],
    ['processes, one online', x.execs.onlineProcesses, p.execs.onlineProcesses, times(r.processesOnline)],
    ['processes, one offline', x.execs.offlineProcesses, p.execs.offlineProcesses, times(r.processesOffline)],
    ['peak RSS, one online (KiB)', x.peakRssKiB, p.peakRssKiB, times(r.peakRss)],
  ];
  const over = p.onlineMs.median - n.startMs.median;
  return [
    '',
    `vif-script bench: ${context.cycles} interleaved online+offline cycles per side in ${context.seconds.toFixed(1)} s`,
    `node ${context.node}, kernel ${context.kernel}, xen-utils-common ${context.xenUtilsCommon}, bundle ${(context.bundleBytes / 1024).toFixed(1)} KiB (built ${context.bundleBuilt})`,
    '',
    table(rows),
    '',
    `node -e 0 alone: median ${ms(n.startMs.median)} ms, p90 ${ms(n.startMs.p90)} ms, peak RSS ${n.peakRssKiB} KiB` +
      ` (xenplan online median is ${ms(over)} ms above it)`,
    '',
    "programs exec'd for one online:",
    `  xen:     ${programs(x.execs.onlinePrograms)}`,
    `  xenplan: ${programs(p.execs.onlinePrograms)}`,
    "programs exec'd for one offline:",
    `  xen:     ${programs(x.execs.offlinePrograms)}`,
    `  xenplan: ${programs(p.execs.offlinePrograms)}`,
    '',
    `time:  ${context.timing}; p90 linear between ranks`,
    `execs: ${context.execs}`,
    `RSS:   ${context.peakRss}`,
    '',
  ].join('\n');
}
