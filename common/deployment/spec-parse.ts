import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import { UserFacingError } from '../errors';
import { formatProblems, type Problem, type SpecPath } from './problems';
import { DeploymentSpec } from './spec';

export interface SpecPosition {
  line: number;
  column: number;
}

/** Maps a spec path (as in Problem.path) to its line in the text it was parsed from. */
export type SpecLocator = (path: SpecPath) => SpecPosition | undefined;

export type SpecParseResult =
  | { ok: true; spec: DeploymentSpec; locate: SpecLocator }
  | { ok: false; problems: Problem[] };

/**
 * Parses a spec written in YAML or JSON (JSON is read by the same YAML 1.2 parser, so both get
 * line numbers). Every problem carries the line and column of the offending key or value.
 */
export function parseDeploymentSpecText(text: string): SpecParseResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const pos = (offset: number): SpecPosition => {
    const p = lineCounter.linePos(offset);
    return { line: p.line, column: p.col };
  };
  if (doc.errors.length) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({
        code: 'spec-syntax',
        severity: 'error',
        message: `${firstLine(e.message)}. Fix the YAML/JSON syntax at this position.`,
        ...pos(e.pos[0]),
      })),
    };
  }
  const locate: SpecLocator = (path) => {
    const found = findNode(doc.contents, path);
    return found !== undefined ? pos(found) : undefined;
  };
  const value: unknown = doc.toJS({ maxAliasCount: 100 });
  if (value === null || value === undefined) {
    return { ok: false, problems: [{ code: 'spec-invalid', severity: 'error', message: 'The spec is empty. Start from one of the files in examples/.', line: 1, column: 1 }] };
  }
  return validateSpecValue(value, locate);
}

/** Validates a spec that arrived as a value (wizard, API) rather than text. */
export function parseDeploymentSpecValue(value: unknown): SpecParseResult {
  return validateSpecValue(value, () => undefined);
}

/** For CLI and controller callers: returns the spec or throws one UserFacingError listing every problem. */
export function loadDeploymentSpec(text: string, source: string): { spec: DeploymentSpec; locate: SpecLocator } {
  const r = parseDeploymentSpecText(text);
  if (!r.ok) {
    throw new UserFacingError('spec-invalid', `${source} is not a valid deployment spec:\n${formatProblems(r.problems, source)}`, { problems: r.problems });
  }
  return { spec: r.spec, locate: r.locate };
}

function validateSpecValue(value: unknown, locate: SpecLocator): SpecParseResult {
  const r = DeploymentSpec.safeParse(value);
  if (r.success) return { ok: true, spec: r.data, locate };
  return { ok: false, problems: r.error.issues.flatMap((issue) => issueToProblems(issue, value, locate)) };
}

function issueToProblems(issue: z.core.$ZodIssue, value: unknown, locate: SpecLocator): Problem[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      const keyPath = [...path, key];
      return {
        code: 'spec-invalid',
        severity: 'error',
        message: `Unknown field "${key}"${path.length ? ` in ${describe(path)}` : ''}. Check its spelling against docs/deployment-spec.md, or remove it.`,
        path: keyPath,
        ...locateNearest(locate, keyPath),
      };
    });
  }
  return [
    {
      code: 'spec-invalid',
      severity: 'error',
      message: `${describe(path)}: ${valueAt(value, path) === undefined ? 'is required' : issueMessage(issue)}.`,
      path,
      ...locateNearest(locate, path),
    },
  ];
}

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_union') return unionHint(issue.path) ?? issue.message;
  return issue.message;
}

function valueAt(value: unknown, path: readonly (string | number)[]): unknown {
  let v = value;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

function unionHint(path: readonly PropertyKey[]): string | undefined {
  const last = path[path.length - 1];
  if (last === 'model') return 'give a Hugging Face id or an absolute path, or an object {path, servedName}';
  if (last === 'gpus') return 'give GPU ids for one instance like [1, 2], or one list per instance like [[0], [1]]';
  return undefined;
}

function describe(path: readonly (string | number)[]): string {
  if (!path.length) return 'The spec';
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out;
}

function locateNearest(locate: SpecLocator, path: SpecPath): Partial<SpecPosition> {
  for (let n = path.length; n >= 0; n--) {
    const p = locate(path.slice(0, n));
    if (p) return p;
  }
  return {};
}

/** Offset of the node at `path`; for a map entry, the offset of its key (where a person looks). */
function findNode(root: YamlNode | null, path: SpecPath): number | undefined {
  let node: unknown = root;
  let offset = rangeStart(root);
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === String(seg));
      if (!pair) return undefined;
      offset = rangeStart(pair.key as YamlNode) ?? rangeStart(pair.value as YamlNode | null);
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (item === undefined) return undefined;
      node = item;
      offset = rangeStart(item as YamlNode);
    } else {
      return undefined;
    }
  }
  return offset;
}

function rangeStart(node: YamlNode | null | undefined): number | undefined {
  return node && 'range' in node && node.range ? node.range[0] : undefined;
}

function firstLine(s: string): string {
  return (s.split('\n')[0] ?? s).replace(/\.$/, '');
}

/** Adds line and column to planner problems, so the CLI can print `spec.yaml:12:5: error …`. */
export function locateProblems(problems: readonly Problem[], locate: SpecLocator): Problem[] {
  return problems.map((p) => (p.path && p.line === undefined ? { ...p, ...locateNearest(locate, p.path) } : p));
}
