/**
 * The failure report of a hotplug event: `hotplug-error` (one sentence) and
 * `hotplug-status=error`, written together so the toolstack reports the failure at once.
 */
import { openXenstore } from './xenstore.ts';
import type { XenstoreClient } from './xs-connection.ts';

/**
 * The longest hotplug-error written, in bytes. With its path it stays far inside xenstore's
 * 4096-byte payload limit (XENSTORE_PAYLOAD_MAX, per write; a real xenstored aborts the whole
 * transaction on one oversized write), however many long values a sentence quotes.
 */
export const HOTPLUG_ERROR_MAX = 1024;

/** The sentence as written: cut at a character boundary to HOTPLUG_ERROR_MAX bytes. */
export function hotplugSentence(message: string): string {
  const bytes = Buffer.from(message, 'utf8');
  if (bytes.length <= HOTPLUG_ERROR_MAX) return message;
  const cut = bytes
    .subarray(0, HOTPLUG_ERROR_MAX - 3)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
  return `${cut}…`;
}

const reason = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Writes the report through `xs` while it is usable, else (or when that fails) through a
 * fresh connection: a connection that broke (garbage, a wrong reply, EPIPE, a reply that never
 * came) is never trusted with it. Nothing waits past `deadline` (epoch ms). Resolves with
 * undefined when written, else with why not.
 */
export async function reportHotplugError(
  env: Readonly<Record<string, string | undefined>>,
  xs: XenstoreClient | undefined,
  backend: string,
  sentence: string,
  deadline: number,
): Promise<string | undefined> {
  const pairs = [
    { path: `${backend}/hotplug-error`, value: hotplugSentence(sentence) },
    { path: `${backend}/hotplug-status`, value: 'error' },
  ];
  let first: string | undefined;
  if (xs?.usable) {
    try {
      await xs.writeMany(pairs);
      return undefined;
    } catch (error) {
      first = reason(error);
    }
  }
  let fresh: XenstoreClient | undefined;
  try {
    fresh = await openXenstore({ ...env }, { deadline });
    await fresh.writeMany(pairs);
    return undefined;
  } catch (error) {
    return first === undefined ? reason(error) : `${first}; through a fresh connection: ${reason(error)}`;
  } finally {
    await fresh?.close();
  }
}
