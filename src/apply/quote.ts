/**
 * The one display form of an argv: POSIX sh words that reproduce it exactly. Used by the
 * dry-run script, logs and error messages.
 */
const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

export function quoteWord(word: string): string {
  if (SAFE.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

export function renderArgv(argv: readonly string[]): string {
  return argv.map(quoteWord).join(' ');
}

/** Makes text safe for a `#` comment line: control characters become visible escapes. */
export function commentText(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping control characters is the point
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
