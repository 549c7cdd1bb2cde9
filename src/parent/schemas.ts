import { Type, type TSchema } from '@sinclair/typebox';

/** Shared request-schema pieces. Every object is closed (`additionalProperties: false`): unknown fields are errors. */
export const Paging = {
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50, description: 'Page size, 1..200.' }),
  offset: Type.Integer({ minimum: 0, default: 0, description: 'Rows to skip.' }),
};

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 191 }) }, { additionalProperties: false });

export const NoQuery = Type.Object({}, { additionalProperties: false });

export function closed<T extends Record<string, TSchema>>(properties: T, description?: string) {
  return Type.Object(properties, { additionalProperties: false, ...(description ? { description } : {}) });
}

export const HttpUrl = Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 1000, description: 'An http(s) URL.' });
