/**
 * Quotes one argv word for DISPLAY (dry run, wizard review) so a person can copy the command into
 * a POSIX shell. Launches never go through a shell: they use argv arrays.
 */
export function displayQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
