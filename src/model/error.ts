/**
 * The one error type. Its kind is a closed set; only `cli/` maps kinds to exit codes and
 * messages, and only `xen/hotplug` turns an error into a `hotplug-error` sentence.
 */
export type ErrorKind = 'usage' | 'config' | 'environment' | 'xenstore' | 'apply' | 'verify' | 'bug';

export const ERROR_KINDS: readonly ErrorKind[] = [
  'usage',
  'config',
  'environment',
  'xenstore',
  'apply',
  'verify',
  'bug',
];

export interface XenplanErrorOptions {
  /** The Step that failed (apply), when there is one. */
  readonly stepId?: string;
  /** Extra lines for logs (a command's stderr, a failed verification's leftover steps). */
  readonly detail?: string;
  readonly cause?: unknown;
}

export class XenplanError extends Error {
  readonly kind: ErrorKind;
  readonly stepId: string | undefined;
  readonly detail: string | undefined;

  constructor(kind: ErrorKind, message: string, options: XenplanErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'XenplanError';
    this.kind = kind;
    this.stepId = options.stepId;
    this.detail = options.detail;
  }
}

export function isXenplanError(value: unknown): value is XenplanError {
  return value instanceof XenplanError;
}

/** Wraps anything thrown into a XenplanError; unknown throwables are bugs. */
export function toXenplanError(value: unknown): XenplanError {
  if (value instanceof XenplanError) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new XenplanError('bug', `internal error: ${message}`, { cause: value });
}
