/**
 * Environment variables → configuration values. Which variable sets which key, and how its string becomes the key's
 * type, both come from the schema (`env` on a field, and the field's type); `envBindings` derives them and
 * src/config/validator-code.ts writes the result ahead of time, so the loader needs neither TypeBox nor the schema.
 */

/** How an environment string becomes the schema's type: a whole number, a boolean, a comma-separated list, or
 * "one or a list" (a single value stays a string, several become a list); anything else stays a string. */
export type EnvValueKind = 'integer' | 'boolean' | 'list' | 'one-or-list' | 'string';

export type EnvBinding = { readonly name: string; readonly path: string; readonly kind: EnvValueKind };

/** The parts of a JSON Schema node the bindings need (TypeBox schemas are plain JSON Schema). */
export type EnvSchemaNode = {
  type?: string;
  env?: readonly string[];
  anyOf?: EnvSchemaNode[];
  properties?: Record<string, EnvSchemaNode>;
};

/** Every environment variable the schema names, in schema order; a field's variables in the order they win. */
export function envBindings(schema: EnvSchemaNode): EnvBinding[] {
  const out: EnvBinding[] = [];
  const walk = (node: EnvSchemaNode, prefix: string): void => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const path = prefix ? `${prefix}.${key}` : key;
      if (child.type === 'object' && child.properties) walk(child, path);
      for (const name of child.env ?? []) out.push({ name, path, kind: envValueKind(child) });
    }
  };
  walk(schema, '');
  return out;
}

function envValueKind(node: EnvSchemaNode): EnvValueKind {
  if (node.type === 'integer') return 'integer';
  if (node.type === 'boolean') return 'boolean';
  if (node.type === 'array') return 'list';
  const types = new Set((node.anyOf ?? []).map((option) => option.type));
  if (types.has('array') && types.has('string')) return 'one-or-list';
  return 'string';
}

/**
 * Sets, in `raw`, every key whose environment variable is set and not empty; when a key has several variables the
 * first binding wins. Values that do not convert are passed on as they are, so validation names the mistake.
 */
export function applyEnvironment(
  raw: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  bindings: readonly EnvBinding[],
): void {
  const setFromEnv = new Set<string>();
  for (const { name, path, kind } of bindings) {
    const value = env[name];
    if (value === undefined || value === '' || setFromEnv.has(path)) continue;
    setPath(raw, path, coerceEnvValue(kind, value));
    setFromEnv.add(path);
  }
}

export function coerceEnvValue(kind: EnvValueKind, value: string): unknown {
  switch (kind) {
    case 'integer':
      return /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;
    case 'boolean': {
      const lowered = value.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(lowered)) return true;
      if (['0', 'false', 'no', 'off'].includes(lowered)) return false;
      return value;
    }
    case 'list':
      return splitList(value);
    case 'one-or-list':
      return oneOrList(value);
    case 'string':
      return value;
  }
}

const splitList = (value: string): string[] =>
  value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);

/** `a` → `'a'`, `a, b` → `['a', 'b']` (the parent URL setting accepts one URL, a list, or comma-separated). */
export function oneOrList(value: string): string | string[] {
  const parts = splitList(value);
  return parts.length === 1 ? (parts[0] as string) : parts;
}

export function setPath(target: Record<string, unknown>, keyPath: string, value: unknown): void {
  const parts = keyPath.split('.');
  let cursor = target;
  for (const part of parts.slice(0, -1)) {
    const next = cursor[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) cursor[part] = {};
    cursor = cursor[part] as Record<string, unknown>;
  }
  cursor[parts[parts.length - 1] as string] = value;
}
