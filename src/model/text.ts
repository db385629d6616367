/** Help texts fit 80 columns; the generated parts (settings, rules) wrap with this. Pure. */
export const HELP_WIDTH = 80;

/**
 * Words of `text` filled into lines of at most `width` columns, each starting with `indent`
 * (the first with `first`, for a hanging indent). A word longer than a line stays whole.
 */
export function wrap(
  text: string,
  indent: string,
  first: string = indent,
  width: number = HELP_WIDTH,
): string {
  const lines: string[] = [];
  let line = '';
  const lead = () => (lines.length === 0 ? first : indent);
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line !== '' && lead().length + line.length + 1 + word.length > width) {
      lines.push(lead() + line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(lead() + line);
  return lines.join('\n');
}
