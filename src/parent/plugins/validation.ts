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
    return ajv.compile(schema as object);
  });
  app.setSchemaErrorFormatter((errors, dataVar) => validationFailed(errors.map((e) => toDetail(e as ErrorObject, dataVar))));
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
