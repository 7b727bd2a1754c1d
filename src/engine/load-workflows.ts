import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { load, YAMLException } from 'js-yaml';
import { validateDefinition, type ValidateOptions, type WorkflowDefinition } from './definition';
import { DefinitionError } from './errors';

const FILE = /\.(ya?ml|json)$/;

/** The document in `text`: JSON when `source` is a .json file (the Lambda bundle's), YAML otherwise. */
function parseText(text: string, source: string): unknown {
  if (source.endsWith('.json')) {
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new DefinitionError([`${source}: JSON syntax: ${(err as Error).message}`]);
    }
  }
  try {
    return load(text, { filename: source });
  } catch (err) {
    if (!(err instanceof YAMLException)) throw err;
    const at = err.mark ? ` (line ${err.mark.line + 1}, column ${err.mark.column + 1})` : '';
    throw new DefinitionError([`${source}: YAML syntax: ${err.reason}${at}`]);
  }
}

/** Parses and validates one definition (YAML, or JSON for a .json file). `source` names it in errors. */
export function parseWorkflow(text: string, source: string, opts: ValidateOptions): WorkflowDefinition {
  const def = validateDefinition(parseText(text, source), source, opts);
  const expected = basename(source).replace(FILE, '');
  if (FILE.test(source) && def.id !== expected) {
    throw new DefinitionError([`${source}: id: "${def.id}" must equal the file name "${expected}"`]);
  }
  return def;
}

/**
 * Loads every `*.yml` in `dir` (and `*.json`: the Lambda bundle ships its definitions as JSON,
 * parsed at build time, since a YAML parser's first run costs a cold start about 60 ms); collects
 * every file's problems into one DefinitionError.
 */
export function loadWorkflows(dir: string, opts: ValidateOptions): Map<string, WorkflowDefinition> {
  const defs = new Map<string, WorkflowDefinition>();
  const problems: string[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => FILE.test(f))
    .sort()) {
    const path = join(dir, file);
    try {
      const def = parseWorkflow(readFileSync(path, 'utf8'), path, opts);
      if (defs.has(def.id)) problems.push(`${path}: id: "${def.id}" is defined by another file in ${dir} too`);
      else defs.set(def.id, def);
    } catch (err) {
      if (err instanceof DefinitionError) problems.push(...err.problems);
      else throw err;
    }
  }
  if (problems.length) throw new DefinitionError(problems);
  if (!defs.size) throw new DefinitionError([`${dir}: no workflow definitions (*.yml) found`]);
  return defs;
}
