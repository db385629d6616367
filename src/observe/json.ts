import { XenplanError } from '../model/error.ts';

/** Parses one JSON document printed by `ip -json`; a parse failure is an environment problem. */
export function parseIpJson(text: string, what: string): unknown[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch (cause) {
    throw new XenplanError(
      'environment',
      `cannot parse the JSON of ${what}; is iproute2 recent enough for -json?`,
      {
        cause,
      },
    );
  }
  if (!Array.isArray(value)) throw new XenplanError('environment', `${what} did not print a JSON array`);
  return value;
}

export type Json = Record<string, unknown>;

export function asRecord(value: unknown): Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function num(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}
