import { Ajv, type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import { validationFailed, type ErrorDetail } from '../../errors/cascade-error.js';

/**
 * Two validators: bodies are checked exactly as sent (a number where a string belongs is an error, unknown fields
 * are errors), while query strings and path parameters, which are always text on the wire, are coerced.
 */
function makeAjv(coerceTypes: boolean): Ajv {
  const ajv = new Ajv({ allErrors: true, coerceTypes, useDefaults: true, removeAdditional: false, strict: false });
  (addFormats as unknown as (a: Ajv) => void)(ajv);
  return ajv;
}

const bodyAjv = makeAjv(false);
const textAjv = makeAjv(true);

/**
 * `eager` (the listening parent) compiles every route's schemas while the app gets ready, so a broken schema stops
 * the start; `on-first-use` (the CLI's in-process app, which serves one or two requests) compiles a schema when a
 * request first needs it: the same validators, without compiling a hundred that the command never calls.
 */
export type SchemaCompilation = 'eager' | 'on-first-use';

export function installValidation(app: FastifyInstance, compilation: SchemaCompilation = 'eager'): void {
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? bodyAjv : textAjv;
    const build = (): Validator => rejectingNulAndDepth(ajv.compile(schema as object) as Validator);
    return compilation === 'eager' ? build() : onFirstUse(build);
  });
  app.setSchemaErrorFormatter((errors, dataVar) =>
    validationFailed(mergeByPath((errors as ErrorObject[]).map((e) => ({ error: e, detail: toDetail(e, dataVar) })))),
  );
}

/** Ajv's synchronous validator (no schema here is `$async`). */
type Validator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null | undefined };

function onFirstUse(build: () => Validator): Validator {
  let compiled: Validator | undefined;
  const validate: Validator = (data: unknown) => {
    compiled ??= build();
    const valid = compiled(data);
    validate.errors = compiled.errors;
    return valid;
  };
  return validate;
}

/** Deepest nesting of arrays and objects a request may have; no route needs more than a few levels. */
const MAX_NESTING_DEPTH = 32;

/**
 * Checks run on every part of every request (body, query, path) before its schema:
 * - PostgreSQL text cannot hold U+0000: a NUL in any field would fail its statement with a 500 there, and pass on
 *   SQLite and MySQL. So it is refused with 400 first, on every store.
 * - JSON nested thousands deep would overflow the stack of any recursive walk (ours, Ajv's); it is refused with
 *   400 by a walk that keeps its own stack.
 */
function rejectingNulAndDepth(validate: Validator): Validator {
  const checked: Validator = (data: unknown) => {
    const problem = firstStructuralProblem(data);
    if (problem === undefined) {
      const valid = validate(data);
      checked.errors = validate.errors;
      return valid;
    }
    checked.errors = [
      { instancePath: problem.path, keyword: problem.keyword, schemaPath: '#', params: {}, message: problem.message },
    ];
    return false;
  };
  return checked;
}

type StructuralProblem = { path: string; keyword: 'nul' | 'depth'; message: string };

/** The first string (value or key) holding U+0000 or the first container nested too deep, in document order. */
function firstStructuralProblem(root: unknown): StructuralProblem | undefined {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value: root, path: '', depth: 0 }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value, path, depth } = item;
    if (typeof value === 'string') {
      if (value.includes('\u0000'))
        return { path, keyword: 'nul', message: 'must not contain the NUL character (U+0000)' };
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_NESTING_DEPTH)
      return {
        path,
        keyword: 'depth',
        message: `must not nest arrays and objects more than ${MAX_NESTING_DEPTH} levels deep`,
      };
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
    const keyWithNul = entries.find(([key]) => !Array.isArray(value) && key.includes('\u0000'));
    if (keyWithNul) return { path, keyword: 'nul', message: 'must not contain the NUL character (U+0000)' };
    // Pushed in reverse so that they are visited in document order.
    for (let i = entries.length - 1; i >= 0; i -= 1) {
      const [key, child] = entries[i] as readonly [string, unknown];
      stack.push({ value: child, path: `${path}/${key}`, depth: depth + 1 });
    }
  }
  return undefined;
}

/**
 * One detail per path. A choice of values (a union of literals) makes Ajv report every branch separately, plus
 * "must match a schema in anyOf"; fold those into "must be one of: a, b".
 */
function mergeByPath(items: Array<{ error: ErrorObject; detail: ErrorDetail }>): ErrorDetail[] {
  const byPath = new Map<string, Array<{ error: ErrorObject; detail: ErrorDetail }>>();
  for (const item of items) byPath.set(item.detail.path, [...(byPath.get(item.detail.path) ?? []), item]);
  return [...byPath].map(([path, group]) => {
    const allowed = group
      .filter((g) => g.error.keyword === 'const')
      .map((g) => JSON.stringify(g.error.params.allowedValue));
    if (allowed.length > 1) return { path, message: `must be one of: ${allowed.join(', ')}` };
    const meaningful = group.filter((g) => g.error.keyword !== 'anyOf' && g.error.keyword !== 'oneOf');
    const messages = [...new Set((meaningful.length > 0 ? meaningful : group).map((g) => g.detail.message))];
    return { path, message: messages.join('; or ') };
  });
}

function toDetail(error: ErrorObject, dataVar: string): ErrorDetail {
  const where = dataVar === 'body' ? '' : `${dataVar}.`;
  const base = `${where}${error.instancePath.split('/').filter(Boolean).join('.')}`.replace(/\.$/, '');
  if (error.keyword === 'additionalProperties') {
    const field = String(error.params.additionalProperty);
    return { path: base ? `${base}.${field}` : field, message: 'is not a known field' };
  }
  if (error.keyword === 'required') {
    const field = String(error.params.missingProperty);
    return { path: base ? `${base}.${field}` : field, message: 'is required' };
  }
  return { path: base, message: error.message ?? 'is invalid' };
}
