import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseDocument } from 'yaml';
import { validateDefinition, type ValidateOptions, type WorkflowDefinition } from './definition';
import { DefinitionError } from './errors';

/** Parses and validates one YAML definition. `source` names it in errors. */
export function parseWorkflow(text: string, source: string, opts: ValidateOptions): WorkflowDefinition {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    throw new DefinitionError(doc.errors.map((e) => `${source}: YAML syntax: ${e.message.split('\n')[0]}`));
  }
  const def = validateDefinition(doc.toJS(), source, opts);
  const expected = basename(source).replace(/\.ya?ml$/, '');
  if (source.match(/\.ya?ml$/) && def.id !== expected) {
    throw new DefinitionError([`${source}: id: "${def.id}" must equal the file name "${expected}"`]);
  }
  return def;
}

/** Loads every `*.yml` in `dir`; collects every file's problems into one DefinitionError. */
export function loadWorkflows(dir: string, opts: ValidateOptions): Map<string, WorkflowDefinition> {
  const defs = new Map<string, WorkflowDefinition>();
  const problems: string[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()) {
    const path = join(dir, file);
    try {
      const def = parseWorkflow(readFileSync(path, 'utf8'), path, opts);
      defs.set(def.id, def);
    } catch (err) {
      if (err instanceof DefinitionError) problems.push(...err.problems);
      else throw err;
    }
  }
  if (problems.length) throw new DefinitionError(problems);
  if (!defs.size) throw new DefinitionError([`${dir}: no workflow definitions (*.yml) found`]);
  return defs;
}
