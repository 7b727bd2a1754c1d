/**
 * References in workflow definitions: `${input.x}`, `${steps.<id>.output.<path>}`, `${run.id}`,
 * `${run.requester}`. A value that is exactly one reference keeps the referenced value's type;
 * references inside a longer string are interpolated as text.
 */
const REF = /\$\{([^}]*)\}/g;
const WHOLE = /^\$\{([^}]*)\}$/;
const REF_SHAPE =
  /^(input\.[A-Za-z][\w-]*(\.[\w-]+)*|steps\.[a-z][a-z0-9-]*\.output(\.[\w-]+)*|run\.(id|requester|reason))$/;

export interface TemplateScope {
  input: Record<string, unknown>;
  steps: Record<string, { output?: unknown }>;
  run: { id: string; requester: string; reason?: string };
}

/** A reference found in a definition, for load-time checks. */
export interface Ref {
  expr: string;
  kind: 'input' | 'steps' | 'run';
  name: string;
}

/** Every `${...}` reference in a value (deeply), or a problem string for malformed ones. */
export function findRefs(value: unknown): { refs: Ref[]; problems: string[] } {
  const refs: Ref[] = [];
  const problems: string[] = [];
  const visit = (v: unknown): void => {
    if (typeof v === 'string') {
      for (const m of v.matchAll(REF)) {
        const expr = (m[1] ?? '').trim();
        if (!REF_SHAPE.test(expr)) {
          problems.push(
            `"\${${expr}}" is not a reference; use \${input.<name>}, \${steps.<step-id>.output.<field>} or \${run.id|requester|reason}`,
          );
          continue;
        }
        const parts = expr.split('.');
        refs.push({ expr, kind: parts[0] as Ref['kind'], name: parts[1] ?? '' });
      }
      if (/\$\{[^}]*$/.test(v)) problems.push(`"${v}" has an unclosed \${`);
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') Object.values(v).forEach(visit);
  };
  visit(value);
  return { refs, problems };
}

function lookup(expr: string, scope: TemplateScope): unknown {
  const [head, name, ...rest] = expr.split('.');
  let value: unknown;
  if (head === 'input') value = scope.input[name as string];
  else if (head === 'run') value = (scope.run as unknown as Record<string, unknown>)[name as string];
  else {
    value = scope.steps[name as string]?.output;
    rest.shift(); // "output"
  }
  for (const key of rest) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Resolves every reference in `value` against `scope`. */
export function resolveTemplate(value: unknown, scope: TemplateScope): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole) return lookup((whole[1] ?? '').trim(), scope);
    return value.replace(REF, (_, expr: string) => {
      const v = lookup(expr.trim(), scope);
      if (v === undefined || v === null) return '';
      return typeof v === 'string' ? v : JSON.stringify(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => resolveTemplate(v, scope));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveTemplate(v, scope)]));
  }
  return value;
}
