import type { FileReader, Runner } from '../model/ports.ts';

/** Everything a command may touch, passed in so tests can swap each door. */
export interface Context {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly runner: Runner;
  readonly files: FileReader;
  /**
   * Epoch ms the event began, when that was before this process (the agent serves an event
   * its launcher started); otherwise the process's own start counts.
   */
  readonly startedAt?: number;
  out(text: string): void;
  err(text: string): void;
}

declare const XENPLAN_VERSION: string | undefined;

export function version(): string {
  return typeof XENPLAN_VERSION === 'string' ? XENPLAN_VERSION : '0.0.0-dev';
}
