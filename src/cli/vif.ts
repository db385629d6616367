import { applyAndVerify } from '../apply/converge.ts';
import { lockPath, waitForUnlock } from '../apply/lock.ts';
import { renderJson, renderScript } from '../apply/render.ts';
import { toXenplanError, type XenplanError } from '../model/error.ts';
import { findLink } from '../model/host.ts';
import type { Plan, XenstoreWrite } from '../model/plan.ts';
import type { VifDesired } from '../model/vif.ts';
import { listBridges, observeLinks } from '../observe/sysfs.ts';
import { chooseBridge, planVifOffline, planVifOnline } from '../plan/vif.ts';
import { BACKEND_KEYS, type BackendValues, validateBackend } from '../xen/backend.ts';
import { type HotplugRequest, parseHotplugRequest } from '../xen/hotplug.ts';
import { appendHotplugLog, logDir } from '../xen/log.ts';
import { openXenstore } from '../xen/xenstore.ts';
import type { XenstoreClient } from '../xen/xs-connection.ts';
import type { Context } from './context.ts';
import { EXIT_HELP } from './exit.ts';

export const VIF_HELP = `Usage: vif-script online|offline [type_if=vif] [bridge=BRIDGE] [--dry-run] [--json]
       vif-script add|remove type_if=tap [bridge=BRIDGE] [--dry-run] [--json]

Attaches a guest's network interface to its bridge (online, add) or detaches it
(offline, remove), and tells the toolstack through xenstore. Xen runs it:
  xl/libxl (Xen 4.2+):  vif-script online type_if=vif, offline type_if=vif; for HVM
                        emulated NICs also add/remove type_if=tap
  xend + udev (3.x-4.4): vif-script online / offline (no type_if means vif)
Words may come in any order; the first word without '=' is the command.

Environment (set by Xen):
  XENBUS_PATH      backend directory, backend/vif/<domid>/<devid> (relative or absolute)
  vif              the vif device (default vif<domid>.<devid>)
  INTERFACE        the tap device for type_if=tap (vif<domid>.<devid>-emu or tap<domid>.<devid>)
  bridge           bridge, when neither xenstore nor an argument names one
  XENSTORED_PATH   xenstored socket (default /var/run/xenstored/socket, then /dev/xen/xenbus)
  XENPLAN_DRY_RUN=1  print the plan instead of applying it (for watching a host)
  XENPLAN_LOG_DIR  log directory (default /var/log/xen; the log is xen-hotplug.log)
  XENPLAN_RUN_DIR  where network-script's lock lives (default /run/xenplan)

Xenstore keys read from the backend directory: bridge, mac, ip, mtu, vifname, frontend.
The bridge is xenstore's bridge, else bridge= given here, else $bridge, else the only
bridge on the host; a missing xenbrN falls back to ethN when that is a bridge.

online / add:  rename to vifname; MAC fe:ff:ff:ff:ff:ff; MTU from the backend mtu key,
               else the bridge's (set before enslaving); enslave; up. Then, for a PV vif,
               write the frontend's mtu and hotplug-status=connected.
offline / remove: down and out of the bridge; a device already gone is fine. Never writes
               hotplug-status.
On any failure of online/add: hotplug-error (one sentence) and hotplug-status=error in one
transaction, a line in the log and syslog, exit 1.

Options:
  --dry-run   print the plan (and the xenstore writes it would make) and change nothing
  --json      with --dry-run, print the plan as JSON
  -h, --help  this help

${EXIT_HELP}
`;

/** How long vif-script waits for a running network-script (libxl kills us at 40 s). */
const NETWORK_LOCK_WAIT_MS = 20_000;

export async function runVif(ctx: Context, args: readonly string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    ctx.out(VIF_HELP);
    return 0;
  }
  const started = Date.now();
  let request: HotplugRequest;
  try {
    request = parseHotplugRequest(args, ctx.env);
  } catch (thrown) {
    const error = toXenplanError(thrown);
    if (error.kind === 'usage') ctx.err(VIF_HELP.split('\n\n')[0]!.concat('\n'));
    await reportEarlyFailure(ctx, args, error);
    throw error;
  }
  if (request.ignored) return 0;
  let xs: XenstoreClient | undefined;
  try {
    const attaching = request.command === 'online' || request.command === 'add';
    if (attaching) xs = await openXenstore(ctx.env);
    else {
      // Detaching needs xenstore only to learn a vifname; at shutdown xenstored may be gone already.
      xs = await openXenstore(ctx.env).catch((error: unknown) => {
        ctx.err(`vif-script: ${toXenplanError(error).message}; detaching ${request.dev} by its own name\n`);
        return undefined;
      });
    }
    const outcome = attaching ? await attach(ctx, xs!, request) : await detach(ctx, xs, request);
    if (!request.dryRun) log(ctx, request, `${outcome} (${Date.now() - started} ms)`);
    return 0;
  } catch (thrown) {
    const error = toXenplanError(thrown);
    if (request.command === 'online' || request.command === 'add') {
      if (!request.dryRun) await reportFailure(ctx, xs, request.backend, error);
    } else if (!request.dryRun) log(ctx, request, `failed: ${error.message}`);
    throw error;
  } finally {
    await xs?.close();
  }
}

async function readBackend(
  xs: XenstoreClient,
  backend: string,
): Promise<BackendValues & { disableUdev: boolean }> {
  const values = await xs.readMany([...BACKEND_KEYS.map((k) => `${backend}/${k}`), 'libxl/disable_udev']);
  const keys = Object.fromEntries(BACKEND_KEYS.map((k, i) => [k, values[i]]));
  return { ...validateBackend(keys), disableUdev: values[BACKEND_KEYS.length] !== undefined };
}

async function attach(ctx: Context, xs: XenstoreClient, request: HotplugRequest): Promise<string> {
  const backend = await readBackend(xs, request.backend);
  // Xen 4.2-4.5: udev rules still fire but libxl runs the script itself.
  if (ctx.env.UDEV_CALL === '1' && backend.disableUdev)
    return 'ignored: libxl runs hotplug scripts (libxl/disable_udev)';
  if (await waitForUnlock(lockPath(ctx.env), NETWORK_LOCK_WAIT_MS))
    ctx.err('vif-script: network-script still holds its lock; going ahead\n');
  const bridges = listBridges(ctx.files);
  const requested = pickBridge(backend, request, ctx.env);
  const bridge = chooseBridge(requested, bridges);
  const name = backend.vifname
    ? request.typeIf === 'tap'
      ? `${backend.vifname}-emu`
      : backend.vifname
    : request.dev;
  const observe = () => observeLinks(ctx.files, [request.dev, name, bridge]);
  const host = observe();
  const mtu = backend.mtu ?? findLink(host, bridge)?.mtu ?? 1500;
  const want: VifDesired = { kind: request.typeIf, dev: request.dev, name, bridge, mtu };
  const writes: XenstoreWrite[] = [];
  if (request.typeIf === 'vif') {
    if (backend.frontend)
      writes.push({ path: `${backend.frontend}/mtu`, value: String(mtu), reason: 'tell the guest its MTU' });
    writes.push({
      path: `${request.backend}/hotplug-status`,
      value: 'connected',
      reason: 'tell the toolstack and netback the vif is ready',
    });
  }
  const plan = planVifOnline(want, host, writes);
  if (request.dryRun) {
    printPlan(ctx, request, plan, `${name} in ${bridge}`);
    return 'dry-run';
  }
  await applyAndVerify(ctx.runner, plan, async () => planVifOnline(want, observe(), writes));
  if (writes.length > 0) await xs.writeMany(writes);
  return `${name} in ${bridge}, mtu ${mtu}: ${plan.steps.length} step(s)${request.typeIf === 'vif' ? ', connected' : ''}`;
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
): Promise<string> {
  // The backend directory may already be partly removed: a missing key is not an error.
  let vifname: string | undefined;
  try {
    vifname = validateBackend({ vifname: await xs?.read(`${request.backend}/vifname`) }).vifname;
  } catch {
    vifname = undefined;
  }
  const renamed = vifname ? (request.typeIf === 'tap' ? `${vifname}-emu` : vifname) : request.dev;
  const present = observeLinks(ctx.files, [renamed, request.dev]);
  const name = findLink(present, renamed) ? renamed : request.dev;
  const plan = planVifOffline(name, present);
  if (request.dryRun) {
    printPlan(ctx, request, plan, name);
    return 'dry-run';
  }
  try {
    await applyAndVerify(ctx.runner, plan, async () => planVifOffline(name, observeLinks(ctx.files, [name])));
  } catch (error) {
    // The device may vanish under us (netback frees it as the guest goes): that is success.
    if (findLink(observeLinks(ctx.files, [name]), name)) throw error;
  }
  return `${name} detached: ${plan.steps.length} step(s)`;
}

function printPlan(ctx: Context, request: HotplugRequest, plan: Plan, what: string): void {
  const title = `vif-script ${request.command} type_if=${request.typeIf}: ${what} (${request.backend})`;
  ctx.out(request.json ? renderJson(plan) : renderScript(plan, { title }));
}

function log(ctx: Context, request: HotplugRequest, text: string): void {
  const problem = appendHotplugLog(
    logDir(ctx.env),
    `vif-script ${request.command} ${request.dev} ${request.backend}: ${text}`,
    new Date(),
  );
  if (problem) ctx.err(`vif-script: ${problem}\n`);
}

/** Every failure of online/add is reported: hotplug-error and hotplug-status=error together. */
async function reportFailure(
  ctx: Context,
  xs: XenstoreClient | undefined,
  backend: string,
  error: XenplanError,
): Promise<void> {
  const sentence = error.message;
  const line = `vif-script failed for ${backend}: ${sentence}${error.detail ? `\n${error.detail}` : ''}`;
  const problem = appendHotplugLog(logDir(ctx.env), line, new Date());
  if (problem) ctx.err(`vif-script: ${problem}\n`);
  await ctx.runner
    .run(['logger', '-p', 'daemon.err', '-t', 'vif-script', '--', line.split('\n')[0]!])
    .catch(() => undefined);
  if (error.kind === 'xenstore' && !xs) return;
  try {
    const client = xs ?? (await openXenstore(ctx.env));
    await client.writeMany([
      { path: `${backend}/hotplug-error`, value: sentence },
      { path: `${backend}/hotplug-status`, value: 'error' },
    ]);
    if (!xs) await client.close();
  } catch (writeError) {
    ctx.err(`vif-script: could not report the failure in xenstore: ${toXenplanError(writeError).message}\n`);
  }
}

/** A request that could not be parsed still reports, when it was an online/add with a usable backend path. */
async function reportEarlyFailure(ctx: Context, args: readonly string[], error: XenplanError): Promise<void> {
  const command = args.find((w) => !w.includes('=') && !w.startsWith('--'));
  const path = ctx.env.XENBUS_PATH;
  const dryRun = args.includes('--dry-run') || ctx.env.XENPLAN_DRY_RUN === '1';
  if ((command !== 'online' && command !== 'add') || dryRun || !path || !/^[A-Za-z0-9/_.-]+$/.test(path))
    return;
  if (!/(^|\/)backend\/vif\/[0-9]+\/[0-9]+$/.test(path)) return;
  await reportFailure(ctx, undefined, path, error);
}
