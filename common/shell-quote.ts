/**
 * Turns an argv array into one POSIX `sh` command line, for the remote exec of an SSH session
 * (sshd hands the string to the user's login shell with `-c`). This is the ONLY place that builds
 * remote command strings: everything user-typed that reaches a remote shell goes through it.
 *
 * Each word is left bare when it holds only characters that no POSIX shell treats specially,
 * otherwise it is wrapped in single quotes, inside which sh interprets nothing; a single quote
 * itself is written as `'\''` (close, escaped quote, reopen). Assumes a POSIX login shell
 * (sh, bash, dash, zsh, ksh); for csh/fish wrap the result as `['sh', '-c', shellQuote(argv)]`.
 */
export function shellQuote(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('shellQuote: empty argv (nothing to run)');
  return argv.map((word, i) => quoteWord(word, i === 0)).join(' ');
}

// `=` is safe in arguments but not in the first word, where sh would read `A=b` as an assignment.
const SAFE_WORD = /^[A-Za-z0-9_\-.,:/@%+]+$/;
const SAFE_ARG = /^[A-Za-z0-9_\-.,:/@%+=]+$/;

export function quoteWord(word: string, isCommand = false): string {
  if (word.includes('\0')) throw new Error('shellQuote: a NUL byte cannot be passed to a remote command');
  if ((isCommand ? SAFE_WORD : SAFE_ARG).test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
