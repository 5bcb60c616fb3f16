import { isSecretKey, REDACTED, redactText, redactValue } from '../../../common/artifacts';

/**
 * Secrets never leave in an export (issue 8). Everything a report is made of goes through
 * redactValue (secret-named keys, tokens, Authorization headers, --api-key arguments, URL
 * credentials), and every file written goes through redactText once more as a last pass.
 * Environment maps in deployment specs and plans name secrets in their own way
 * (`MY_SERVICE_TOKEN`, `WANDB_API_KEY`), so upper-case variable names that say token, secret,
 * password, key or credential are blanked too.
 */

const ENV_SECRET_NAME = /^[A-Z0-9_]*(?:TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIALS?|AUTH)[A-Z0-9_]*$/;

export function isEnvSecretName(key: string): boolean {
  return /^[A-Z][A-Z0-9_]*$/.test(key) && ENV_SECRET_NAME.test(key);
}

/** argv words whose next word is a secret (`--api-key`, `--token`, …): an argv array keeps them apart. */
const SECRET_FLAG = /^--?(?:api[-_]?key|api[-_]?token|hf[-_]?token|auth[-_]?token|access[-_]?token|token|password|passwd|secret|client[-_]?secret)$/i;

/**
 * A copy with every secret replaced by "[redacted]": redactValue's rules (secret-named keys,
 * secrets inside strings), secret-named environment variables, and the word after a secret flag
 * in argv arrays. Arrays of numbers (chart columns of 100,000 requests) are shared, not walked.
 */
export function redactForExport<T>(value: T): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redactValue(v);
    if (Array.isArray(v)) {
      if (v.every((x) => typeof x === 'number' || x === null)) return v;
      return v.map((x, i) => (i > 0 && typeof x === 'string' && typeof v[i - 1] === 'string' && SECRET_FLAG.test(v[i - 1] as string) ? REDACTED : walk(x)));
    }
    if (v !== null && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        o[k] = (isSecretKey(k) || isEnvSecretName(k)) && x !== null && (typeof x === 'string' || typeof x === 'number') ? REDACTED : walk(x);
      }
      return o;
    }
    return v;
  };
  return walk(value) as T;
}

/** `KEY=value` words of an argv or env listing whose name is a secret. */
function redactAssignments(text: string): string {
  return text.replace(/\b([A-Z][A-Z0-9_]*)=("[^"]*"|'[^']*'|[^\s"'\\]+)/g, (m, name: string) => (isEnvSecretName(name) ? `${name}=${REDACTED}` : m));
}

/** The last pass over a file's text. */
export function redactExportText(text: string): string {
  return redactAssignments(redactText(text));
}
