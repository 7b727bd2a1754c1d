import type { WorkflowDefinition } from './definition';
import { EngineInputError } from './errors';

export const REGION_PATTERN = /^([a-z]+-){2,3}\d$/;

/** Checks and normalises a run's inputs against the definition; throws EngineInputError listing every problem. */
export function validateInputs(def: WorkflowDefinition, input: Record<string, unknown>): Record<string, unknown> {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(input)) {
    if (!(key in def.inputs))
      problems.push(`unknown input "${key}"; ${def.id} takes: ${Object.keys(def.inputs).join(', ')}`);
  }
  for (const [name, spec] of Object.entries(def.inputs)) {
    let value = input[name];
    if (value === undefined || value === '') value = spec.default;
    if (value === undefined) {
      if (!spec.optional)
        problems.push(`input "${name}" is required${spec.description ? ` (${spec.description})` : ''}`);
      continue;
    }
    switch (spec.type) {
      case 'region':
        if (typeof value !== 'string' || !REGION_PATTERN.test(value))
          problems.push(`input "${name}": "${String(value)}" is not an AWS Region name such as eu-central-1`);
        break;
      case 'string':
        if (typeof value !== 'string') problems.push(`input "${name}" must be text`);
        else if (value.length > (spec.maxLength ?? 1000))
          problems.push(`input "${name}" is longer than ${spec.maxLength ?? 1000} characters`);
        break;
      case 'boolean':
        if (typeof value === 'string' && /^(true|false)$/.test(value)) value = value === 'true';
        if (typeof value !== 'boolean') problems.push(`input "${name}" must be true or false`);
        break;
      case 'integer':
        if (typeof value === 'string' && /^-?\d+$/.test(value)) value = Number(value);
        if (typeof value !== 'number' || !Number.isInteger(value))
          problems.push(`input "${name}" must be a whole number`);
        break;
    }
    out[name] = value;
  }
  if (problems.length) throw new EngineInputError(`Invalid input for ${def.id}: ${problems.join('; ')}`);
  return out;
}
