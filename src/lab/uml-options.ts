/** The options of one UML run, their defaults, and their checks (before anything is started). */
import { XenplanError } from '../model/error.ts';
import type { UmlHostOptions } from './uml-host.ts';

export const DEFAULT_UML_WORK_BASE = '/var/tmp';
export const DEFAULT_UML_TIMEOUT_MS = 120_000;
export const DEFAULT_UML_MEM_MB = 512;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Characters allowed in paths that go onto the kernel command line and into scripts unquoted. */
export const UML_SAFE_PATH = /^\/[A-Za-z0-9._/+-]*$/;

export interface UmlRunOptions extends UmlHostOptions {
  /** POSIX sh body, run as root inside UML by `/bin/sh`. */
  readonly script: string;
  /** Wall-clock limit for the whole run, boot included; default 120 s. */
  readonly timeoutMs?: number;
  /** UML memory in MiB; default 512. */
  readonly memMb?: number;
  /** Variables exported to the script (names must be shell identifiers). */
  readonly env?: Readonly<Record<string, string>>;
  /** Directories put in front of the guest PATH (e.g. the directory of the host's `node`). */
  readonly pathPrepend?: readonly string[];
  /** Working directory of the script; default the work dir (the only host dir writable inside). */
  readonly cwd?: string;
  /** Parent of the work dir; default `/var/tmp`. */
  readonly workBase?: string;
  /** Called with each new piece of the script's output while it runs (polled). */
  readonly onOutput?: (text: string) => void;
  /** Aborting stops the run (kills UML) as a timeout would. */
  readonly signal?: AbortSignal;
  /**
   * Gives the caller UML's console (con0) as pipes instead of the log file alone, so a
   * scenario can open an interactive shell on /dev/console (`xenplan lab --keep`). What UML
   * prints still goes to the log too.
   */
  readonly console?: (stdin: NodeJS.WritableStream, stdout: NodeJS.ReadableStream) => void;
  /** Told the work dir once it exists (it is removed before runInUml returns). */
  readonly onStart?: (workDir: string) => void;
}

/** Throws XenplanError('usage') for a bad env name, memory size, timeout or path. */
export function validateUmlRunOptions(options: UmlRunOptions): void {
  for (const name of Object.keys(options.env ?? {})) {
    if (!ENV_NAME.test(name)) {
      throw new XenplanError('usage', `UML env name ${JSON.stringify(name)} is not a shell identifier`);
    }
  }
  const memMb = options.memMb ?? DEFAULT_UML_MEM_MB;
  if (!Number.isInteger(memMb) || memMb < 64 || memMb > 16384) {
    throw new XenplanError('usage', `UML memMb ${memMb} is not an integer between 64 and 16384`);
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_UML_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new XenplanError('usage', `UML timeoutMs ${timeoutMs} is not a positive number`);
  }
  for (const dir of [options.workBase ?? DEFAULT_UML_WORK_BASE, ...(options.pathPrepend ?? [])]) {
    if (!UML_SAFE_PATH.test(dir)) {
      throw new XenplanError(
        'usage',
        `UML path ${JSON.stringify(dir)} must be absolute and use only letters, digits and ._/+-`,
      );
    }
  }
  if (options.pathPrepend?.some((dir) => dir.includes(':'))) {
    throw new XenplanError('usage', 'UML pathPrepend entries must not contain ":"');
  }
}
