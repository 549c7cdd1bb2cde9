import { Ajv, type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance, FastifySchema } from 'fastify';
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

export function installValidation(app: FastifyInstance): void {
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? bodyAjv : textAjv;
    return rejectingNul(ajv.compile(schema as object) as Validator);
  });
  app.setSchemaErrorFormatter((errors, dataVar) => validationFailed(mergeByPath((errors as ErrorObject[]).map((e) => ({ error: e, detail: toDetail(e, dataVar) })))));
}

/** Ajv's synchronous validator (no schema here is `$async`). */
type Validator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null | undefined };

/**
 * PostgreSQL text cannot hold U+0000: a NUL in any field would fail its statement with a 500 there, and pass on
 * SQLite and MySQL. So every part of every request (body, query, path) is refused with 400 first, on every store.
 */
function rejectingNul(validate: Validator): Validator {
  const checked: Validator = (data: unknown) => {
    const at = pathToNul(data, '');
    if (at === undefined) {
      const valid = validate(data);
      checked.errors = validate.errors;
      return valid;
    }
    checked.errors = [{ instancePath: at, keyword: 'nul', schemaPath: '#', params: {}, message: 'must not contain the NUL character (U+0000)' }];
    return false;
  };
  return checked;
}

/** The JSON-pointer path of the first string (value or key) holding U+0000, or undefined. */
function pathToNul(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      const found = pathToNul(value[i], `${path}/${i}`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, item] of Object.entries(value)) {
    if (key.includes('\u0000')) return path;
    const found = pathToNul(item, `${path}/${key}`);
    if (found !== undefined) return found;
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
    const allowed = group.filter((g) => g.error.keyword === 'const').map((g) => JSON.stringify(g.error.params.allowedValue));
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

/** Marks a route schema so OpenAPI documents it once (the legacy `/wx` prefix is hidden). */
export function withHidden(schema: FastifySchema, hidden: boolean): FastifySchema {
  return hidden ? { ...schema, hide: true } as FastifySchema : schema;
}
