import { applyAndVerify, checkConverged } from '../apply/converge.ts';
import { lockPath, waitForUnlock } from '../apply/lock.ts';
import { markPath } from '../apply/mark.ts';
import { renderScript } from '../apply/render.ts';
import { planPayload, renderReport } from '../apply/report.ts';
import { parseVifSettings, VIF_CONFIG_PATH } from '../config/vif-settings.ts';
import { toXenplanError, XenplanError } from '../model/error.ts';
import { findLink } from '../model/host.ts';
import { makePlan, type Plan, type XenstoreWrite } from '../model/plan.ts';
import type { Runner } from '../model/ports.ts';
import type { VifDesired, VifIdentity } from '../model/vif.ts';
import type { VifMode } from '../model/vif-mode.ts';
import { observePortVlans } from '../observe/port-vlan.ts';
import { listBridges, observeLinks } from '../observe/sysfs.ts';
import { type AntispoofChange, planAntispoofOffline, planAntispoofOnline } from '../plan/antispoof.ts';
import { vlanWarnings } from '../plan/port-vlan.ts';
import { chooseBridge, offlineDevice, planVifOffline, planVifOnline } from '../plan/vif.ts';
import { BACKEND_KEYS, type BackendValues, validateBackend } from '../xen/backend.ts';
import { asksPerson, type HotplugRequest, parseHotplugRequest } from '../xen/hotplug.ts';
import { openXenstore } from '../xen/xenstore.ts';
import type { XenstoreClient } from '../xen/xs-connection.ts';
import { type Context, version } from './context.ts';
import { type EventDeadline, eventDeadline } from './deadline.ts';
import { exitHelp, type Role } from './exit.ts';
import { nodeProblem } from './node-version.ts';
import { readConfigFile } from './settings.ts';
import { applyWithMark } from './vif-antispoof.ts';
import { logLine, reportEarlyFailure, reportFailure } from './vif-failure.ts';

/** vif-script's help; its exit codes are those of the role it runs as. */
export function vifHelp(role: Role = 'vif'): string {
  return `Usage: vif-script online|offline [type_if=vif] [bridge=BRIDGE] [--dry-run]
                  [--json]
       vif-script add|remove type_if=tap [bridge=BRIDGE] [--dry-run] [--json]

Attaches a guest's network interface to its bridge (online, add) or detaches it
(offline, remove), and tells the toolstack through xenstore. Xen runs it:
  xl/libxl (Xen 4.2+):   vif-script online type_if=vif, offline type_if=vif;
                         for HVM emulated NICs also add/remove type_if=tap
  xend + udev (3.x-4.4): vif-script online / offline (no type_if means vif)
Words may come in any order; the first word without '=' is the command.

Environment (set by Xen):
  XENBUS_PATH      backend directory, backend/vif/<domid>/<devid> (relative or
                   absolute)
  vif              the vif device (default vif<domid>.<devid>)
  INTERFACE        the tap device for type_if=tap (vif<domid>.<devid>-emu or
                   tap<domid>.<devid>)
  bridge           bridge, when neither xenstore nor an argument names one
  XENSTORED_PATH   xenstored socket (default /var/run/xenstored/socket, then
                   /dev/xen/xenbus)
  XENPLAN_DRY_RUN=1  print the plan instead of applying it (for watching a
                   host; under a toolstack the guest's start then waits for
                   its timeout)
  XENPLAN_LOG_DIR  log directory (default /var/log/xen; the log is
                   xen-hotplug.log)
  XENPLAN_RUN_DIR  network-script's lock, antispoof marks (default /run/xenplan)
  XENPLAN_CONFIG   host config file (default /etc/xen/xenplan.conf, optional)

Host config file, its vif- keys (the others are network-script's):
  vif-antispoof=ip      the default, Xen's meaning: a guest whose backend has ip
                        may send only from its MAC and those addresses
  vif-antispoof=locked  every guest locked to its backend mac (and ip, if
                        given)
  vif-antispoof=off     no filtering
  Enforced in nftables (table bridge xenplan; netdev xenplan for Open vSwitch,
  routed and NAT guests), with or without br_netfilter.

Xenstore keys read from the backend directory: bridge, mac, ip, mtu, vifname,
frontend, vlan (10p/20/30-40: the port's VLANs on a VLAN-aware bridge). The
bridge is xenstore's bridge, else bridge= given here, else $bridge, else the
only bridge on the host; a missing xenbrN falls back to ethN when that is a
bridge.

online / add:
  antispoof rules first (one nft transaction); rename to vifname; MAC
  fe:ff:ff:ff:ff:ff; MTU from the backend mtu key, else the bridge's (set
  before enslaving); enslave; up. Then, for a PV vif, write the frontend's mtu
  and hotplug-status=connected.
offline / remove:
  down and out of the bridge; a device already gone is fine; its antispoof
  rules removed. Never writes hotplug-status.
On any failure of online/add: hotplug-error (one sentence) and
hotplug-status=error in one transaction (through a fresh connection if the
first broke), a line in the log and syslog, exit 1. Each event ends within
30 s (libxl kills at 40 s), the report included. A vifname is only ever applied
to the guest's own device (netback's vif-<domid>-<devid>, or the ifalias
xenplan:<dev> vif-script sets before renaming); any other is refused.

Modes, by the name it runs as (xenplan install links them; script= picks):
  vif-xenplan        bridge, as Xen's vif-bridge (all of the above)
  vif-xenplan-route  routed, as vif-route: no bridge; needs ip=; dom0's
                     address is taken from gatewaydev= / $netdev (default eth0)
  vif-xenplan-nat    NAT (vif-nat): ip= or 10.<domid/256>.<domid%256>.<devid+1>
                     (masqueraded with nftables, table ip xenplan_nat; no DHCP)
  vif-xenplan-ovs    Open vSwitch: bridge=BR, BR.TAG, BR:TRUNK:TRUNK,
                     BR.TAG:TRUNK

Options:
  --dry-run   print the plan (and the xenstore writes it would make) and change
              nothing
  --json      with --dry-run, print the plan as JSON
  -h, --help  this help; -V, --version: the version (alone only: among Xen's
              words, such an option is an error, reported like any other)

${exitHelp(role)}
`;
}

/** How long vif-script waits for a running network-script, at most (and never past the deadline). */
const NETWORK_LOCK_WAIT_MS = 20_000;

export async function runVif(
  ctx: Context,
  args: readonly string[],
  mode: VifMode = 'bridge',
  role: Role = 'vif',
): Promise<number> {
  // Help and version only for a person running the command alone: among Xen's words they are
  // errors, reported like any other (a silent exit 0 would leave the toolstack waiting).
  if (asksPerson(args, ['--help', '-h'])) {
    ctx.out(vifHelp(role));
    return 0;
  }
  if (asksPerson(args, ['--version', '-V'])) {
    ctx.out(`${version()}\n`);
    return 0;
  }
  // The clock starts with the process (or the agent's launcher): libxl's 40 s started when it forked us.
  const deadline = eventDeadline(ctx.startedAt ?? Math.min(Date.now(), Math.round(performance.timeOrigin)));
  let request: HotplugRequest;
  try {
    // An unsupported Node may still run this far: then the toolstack hears why at once.
    const old = nodeProblem(process.versions.node);
    if (old !== undefined) throw new XenplanError('environment', old);
    request = parseHotplugRequest(args, ctx.env);
  } catch (thrown) {
    const error = toXenplanError(thrown);
    if (error.kind === 'usage') ctx.err(vifHelp(role).split('\n\n')[0]!.concat('\n'));
    await reportEarlyFailure(ctx, args, error, deadline);
    throw error;
  }
  if (request.ignored) return 0;
  const started = Date.now();
  // Every command (ip) gets what is left of the work's time, never its own 60 s.
  const runner: Runner = {
    run: (argv, input) => ctx.runner.run(argv, input, { timeoutMs: deadline.workLeft() }),
  };
  const event = { ...ctx, runner };
  const attaching = request.command === 'online' || request.command === 'add';
  let xs: XenstoreClient | undefined;
  try {
    const connecting = openXenstore({ ...ctx.env }, { deadline: deadline.workEnd });
    if (attaching) xs = await connecting;
    else {
      // Detaching needs xenstore only to learn a vifname; at shutdown xenstored may be gone already.
      xs = await connecting.catch((error: unknown) => {
        ctx.err(`vif-script: ${toXenplanError(error).message}; detaching ${request.dev} by its own name\n`);
        return undefined;
      });
    }
    const outcome = attaching
      ? await attach(event, xs!, request, deadline, mode)
      : await detach(event, xs, request, mode);
    if (!request.dryRun) log(ctx, request, `${outcome} (${Date.now() - started} ms)`);
    return 0;
  } catch (thrown) {
    const error = toXenplanError(thrown);
    if (attaching) {
      if (!request.dryRun) await reportFailure(ctx, xs, request.backend, error, deadline);
    } else if (!request.dryRun) log(ctx, request, `failed: ${error.message}`);
    throw error;
  } finally {
    await xs?.close();
  }
}

async function readBackend(
  xs: XenstoreClient,
  backend: string,
  mode: VifMode,
): Promise<BackendValues & { disableUdev: boolean }> {
  const values = await xs.readMany([...BACKEND_KEYS.map((k) => `${backend}/${k}`), 'libxl/disable_udev']);
  const keys = Object.fromEntries(BACKEND_KEYS.map((k, i) => [k, values[i]]));
  return {
    ...validateBackend(keys, mode === 'ovs' ? 'ovs' : 'linux'),
    disableUdev: values[BACKEND_KEYS.length] !== undefined,
  };
}

async function attach(
  ctx: Context,
  xs: XenstoreClient,
  request: HotplugRequest,
  deadline: EventDeadline,
  mode: VifMode,
): Promise<string> {
  const backend = await readBackend(xs, request.backend, mode);
  // Xen 4.2-4.5: udev rules still fire but libxl runs the script itself.
  if (ctx.env.UDEV_CALL === '1' && backend.disableUdev)
    return 'ignored: libxl runs hotplug scripts (libxl/disable_udev)';
  // As network-script reads it: a file that was named must be there, the default may be absent.
  const config = readConfigFile(ctx, undefined);
  const settings = parseVifSettings(config?.name ?? VIF_CONFIG_PATH, config?.text);
  if (await waitForUnlock(lockPath(ctx.env), Math.min(NETWORK_LOCK_WAIT_MS, deadline.workLeft())))
    ctx.err('vif-script: network-script still holds its lock; going ahead\n');
  if (mode !== 'bridge') {
    // libxl's vlan key names a VLAN-aware Linux bridge port; ignoring it would connect the
    // guest to the wrong network.
    if (backend.vlans)
      throw new XenplanError(
        'config',
        mode === 'ovs'
          ? "the vif's vlan key is for a VLAN-aware Linux bridge; on Open vSwitch give the VLANs in bridge= (BR.TAG, BR:TRUNK:TRUNK)"
          : `the vif's vlan key is for a bridge port; a ${mode === 'route' ? 'routed' : 'NAT'} vif carries no VLANs: drop vlan= from the vif config`,
      );
    const who = identity(request, backend.vifname);
    const writes = connectedWrites(request, backend.frontend, backend.mtu);
    const event = {
      ctx,
      request,
      backend,
      who,
      writes,
      show: showFor(ctx, request),
      antispoof: settings.antispoof,
    };
    const outcome =
      mode === 'ovs'
        ? await (await import('./vif-ovs.ts')).attachOvs(
            event,
            await readOvsIds(xs, request.backend),
            pickBridge(backend, request, ctx.env),
          )
        : await (await import('./vif-routed.ts')).attachRouted(event, mode);
    if (!request.dryRun && writes.length > 0) await xs.writeMany(writes);
    return outcome;
  }
  const bridges = listBridges(ctx.files);
  const requested = pickBridge(backend, request, ctx.env);
  const bridge = chooseBridge(requested, bridges);
  const who = identity(request, backend.vifname);
  const { name } = who;
  const observe = () => observeLinks(ctx.files, [request.dev, name, bridge]);
  const host = observe();
  const mtu = backend.mtu ?? findLink(host, bridge)?.mtu ?? 1500;
  const want: VifDesired = { ...who, bridge, mtu, ...(backend.vlans ? { vlans: backend.vlans } : {}) };
  const writes = connectedWrites(request, backend.frontend, mtu);
  // Only a vif with a vlan key pays for reading the bridge's VLANs (one `bridge` process).
  const vlansOf = (now: typeof host) =>
    backend.vlans
      ? observePortVlans(ctx.runner, ctx.files, bridge, name, findLink(now, name)?.master === bridge)
      : Promise.resolve(undefined);
  const mark = markPath(ctx.env, name);
  const guest = {
    name,
    ...(backend.mac === undefined ? {} : { mac: backend.mac }),
    ips: backend.ips,
    tagged: (backend.vlans ?? []).filter((v) => !v.pvid).map((v) => v.vid),
  };
  const planBoth = async (
    state: typeof host,
    vlans: Awaited<ReturnType<typeof vlansOf>>,
  ): Promise<{ plan: Plan; filter: AntispoofChange }> => {
    const vif = planVifOnline(want, state, writes, vlans);
    // The device exists (planVifOnline said so) under one of its two names.
    const ifindex = (findLink(state, name) ?? findLink(state, request.dev))?.ifindex ?? 0;
    const filter = planAntispoofOnline(settings.antispoof, guest, ifindex, ctx.files.read(mark));
    // Rules first: the guest's port is filtered before it forwards a single frame.
    return { plan: makePlan([...filter.steps, ...vif.steps], vif.warnings, vif.xenstore), filter };
  };
  const portVlans = await vlansOf(host);
  const { plan, filter } = await planBoth(host, portVlans);
  if (request.dryRun) {
    printPlan(ctx, request, plan, `${name} in ${bridge}`);
    return 'dry-run';
  }
  await applyWithMark(ctx, plan, filter, mark);
  const now = observe();
  checkConverged(plan.steps.length, (await planBoth(now, await vlansOf(now))).plan);
  if (writes.length > 0) await xs.writeMany(writes);
  if (backend.vlans && portVlans)
    for (const warning of vlanWarnings(name, bridge, backend.vlans, portVlans))
      ctx.err(`vif-script: ${warning}\n`);
  return `${name} in ${bridge}, mtu ${mtu}: ${plan.steps.length} step(s)${request.typeIf === 'vif' ? ', connected' : ''}`;
}

/** What a successful PV online writes: the guest's MTU (when known), hotplug-status=connected. */
function connectedWrites(
  request: HotplugRequest,
  frontend: string | undefined,
  mtu: number | undefined,
): XenstoreWrite[] {
  const writes: XenstoreWrite[] = [];
  if (request.typeIf !== 'vif') return writes;
  if (frontend && mtu !== undefined)
    writes.push({ path: `${frontend}/mtu`, value: String(mtu), reason: 'tell the guest its MTU' });
  writes.push({
    path: `${request.backend}/hotplug-status`,
    value: 'connected',
    reason: 'tell the toolstack and netback the vif is ready',
  });
  return writes;
}

/** The guest's device and what proves it is the guest's (plan/vif.ts, guestDevice). */
function identity(request: HotplugRequest, vifname: string | undefined): VifIdentity {
  const name = vifname ? (request.typeIf === 'tap' ? `${vifname}-emu` : vifname) : request.dev;
  const who = { kind: request.typeIf, dev: request.dev, name };
  const named = vifname === undefined ? who : { ...who, vifname };
  // netback's xenbus device (xenbus_probe_backend: "<type>-<frontend domid>-<devid>").
  return request.typeIf === 'vif' ? { ...named, xenbusId: `vif-${request.domid}-${request.devid}` } : named;
}

function pickBridge(backend: BackendValues, request: HotplugRequest, env: Context['env']) {
  if (backend.bridge !== undefined) return { value: backend.bridge, source: 'xenstore' };
  if (request.args.bridge !== undefined)
    return { value: request.args.bridge, source: 'the bridge= argument' };
  if (env.bridge) return { value: env.bridge, source: 'the environment' };
  return { value: undefined, source: 'nowhere' };
}

async function detach(
  ctx: Context,
  xs: XenstoreClient | undefined,
  request: HotplugRequest,
  mode: VifMode,
): Promise<string> {
  // The backend directory may already be partly removed: a missing key is not an error.
  let vifname: string | undefined;
  try {
    vifname = validateBackend({ vifname: await xs?.read(`${request.backend}/vifname`) }).vifname;
  } catch {
    vifname = undefined;
  }
  const who = identity(request, vifname);
  if (mode !== 'bridge') {
    let ips: readonly string[] = [];
    try {
      ips = validateBackend({ ip: await xs?.read(`${request.backend}/ip`) }).ips;
    } catch {
      ips = [];
    }
    const event = { ctx, request, backend: { ips }, who, show: showFor(ctx, request) };
    if (mode === 'ovs') return (await import('./vif-ovs.ts')).detachOvs(event);
    return (await import('./vif-routed.ts')).detachRouted(event, mode);
  }
  const present = observeLinks(ctx.files, [who.name, request.dev]);
  const { name, note } = offlineDevice(who, present);
  if (note) {
    ctx.err(`vif-script: ${note}\n`);
    if (!request.dryRun) log(ctx, request, note);
  }
  const plan = planVifOffline(name, present);
  const mark = markPath(ctx.env, name);
  const filter = planAntispoofOffline(name, ctx.files.read(mark));
  if (request.dryRun) {
    printPlan(ctx, request, makePlan([...plan.steps, ...filter.steps], plan.warnings), name);
    return 'dry-run';
  }
  try {
    await applyAndVerify(ctx.runner, plan, async () => planVifOffline(name, observeLinks(ctx.files, [name])));
  } catch (error) {
    // The device may vanish under us (netback frees it as the guest goes): that is success.
    if (findLink(observeLinks(ctx.files, [name]), name)) throw error;
  }
  // Its rules go once it is out of the bridge, so no frame of it ever passes unfiltered.
  await applyWithMark(ctx, makePlan(filter.steps), filter, mark);
  return `${name} detached: ${plan.steps.length + filter.steps.length} step(s)`;
}

function showFor(ctx: Context, request: HotplugRequest) {
  return (plan: Plan, what: string) => printPlan(ctx, request, plan, what);
}

/** The keys Xen's vif-openvswitch copies into the port's external-ids. */
async function readOvsIds(xs: XenstoreClient, backend: string): Promise<Record<string, string | undefined>> {
  const [frontendId, mac] = await xs.readMany([`${backend}/frontend-id`, `${backend}/mac`]);
  const vm =
    frontendId && /^[0-9]+$/.test(frontendId) ? await xs.read(`/local/domain/${frontendId}/vm`) : undefined;
  const [name, uuid] = vm?.startsWith('/') ? await xs.readMany([`${vm}/name`, `${vm}/uuid`]) : [];
  return { 'xen-vm-name': name, 'xen-vm-uuid': uuid, 'attached-mac': mac };
}

function printPlan(ctx: Context, request: HotplugRequest, plan: Plan, what: string): void {
  const title = `vif-script ${request.command} type_if=${request.typeIf}: ${what} (${request.backend})`;
  ctx.out(
    request.json
      ? renderReport(
          { command: `vif ${request.command}`, ok: true, changed: false, dryRun: true },
          planPayload(plan),
        )
      : renderScript(plan, { title }),
  );
}

function log(ctx: Context, request: HotplugRequest, text: string): void {
  logLine(ctx, `vif-script ${request.command} ${request.dev} ${request.backend}: ${text}`);
}
