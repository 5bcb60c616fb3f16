import { z } from 'zod';

/**
 * Everything the spec parser and the planner can object to. Codes are stable (tests, UI logic,
 * docs/deployment-spec.md lists them); the message says what is wrong and what to do.
 */
export const PROBLEM_CODES = [
  'spec-syntax',
  'spec-invalid',
  'unknown-host',
  'host-facts-missing',
  'role-mode-mismatch',
  'duplicate-name',
  'gpu-missing',
  'gpu-busy',
  'gpu-duplicate',
  'not-enough-gpus',
  'gpu-memory-in-use',
  'tp-gpu-mismatch',
  'prefill-tp-exceeds-decode',
  'block-size-mismatch',
  'mixed-platforms',
  'kv-buffer-device-unsupported',
  'cpu-decode-enforce-eager',
  'port-clash',
  'port-in-use',
  'side-channel-not-routable',
  'address-not-routable',
  'host-address-unknown',
  'model-not-found',
  'model-will-download',
  'path-not-absolute',
  'engine-not-installed',
  'nixl-not-installed',
  'python-env-unknown',
  'env-reserved',
  'nixl-telemetry-disabled',
  'cpus-unavailable',
  'extra-arg-reserved',
  'router-mode-option',
] as const;
export const ProblemCode = z.enum(PROBLEM_CODES);
export type ProblemCode = z.infer<typeof ProblemCode>;

export const SpecPath = z.array(z.union([z.string(), z.number()]));
export type SpecPath = z.infer<typeof SpecPath>;

export const Problem = z.object({
  code: ProblemCode,
  /** Errors stop the deployment; warnings are shown in the review and the dry run. */
  severity: z.enum(['error', 'warning']),
  message: z.string(),
  /** Where in the spec, e.g. `['workers', 1, 'gpus']`. */
  path: SpecPath.optional(),
  /** 1-based position in the spec text, when the spec came from text. */
  line: z.number().int().optional(),
  column: z.number().int().optional(),
});
export type Problem = z.infer<typeof Problem>;

export function formatSpecPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out || '(root)';
}

/** One line per problem: `file:line:col: error [code] message`. */
export function formatProblems(problems: readonly Problem[], source?: string): string {
  return problems
    .map((p) => {
      const where = [source, p.line, p.line !== undefined ? p.column : undefined].filter((x) => x !== undefined).join(':');
      const at = p.path && p.path.length ? ` (${formatSpecPath(p.path)})` : '';
      return `${where ? where + ': ' : ''}${p.severity} [${p.code}]${at} ${p.message}`;
    })
    .join('\n');
}

export const hasErrors = (problems: readonly Problem[]): boolean => problems.some((p) => p.severity === 'error');
