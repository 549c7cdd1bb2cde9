import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { envBindings, type EnvBinding, type EnvSchemaNode } from './env.js';
import { ConfigSchema } from './schema.js';

/** The part of a JSON schema node that the reference needs (TypeBox schemas are plain JSON Schema). */
type SchemaNode = {
  type?: string;
  description?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  minItems?: number;
  pattern?: string;
  const?: unknown;
  anyOf?: SchemaNode[];
  items?: SchemaNode;
  properties?: Record<string, SchemaNode>;
  required?: string[];
};

const configEnvBindings = (): EnvBinding[] => envBindings(ConfigSchema as unknown as EnvSchemaNode);

export type ConfigKeyDoc = { path: string; type: string; default: string; env: string[]; description: string };

/** Every leaf setting of the schema, in schema order, with the environment variables the loader maps to it. */
export function configKeys(): ConfigKeyDoc[] {
  const out: ConfigKeyDoc[] = [];
  const bindings = configEnvBindings();
  const walk = (node: SchemaNode, prefix: string): void => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const path = prefix ? `${prefix}.${key}` : key;
      if (child.type === 'object' && child.properties) {
        walk(child, path);
        continue;
      }
      out.push({
        path,
        type: describeType(child),
        default: child.default === undefined ? '—' : `\`${JSON.stringify(child.default)}\``,
        env: bindings.filter((binding) => binding.path === path).map((binding) => binding.name),
        description: (child.description ?? '').trim(),
      });
    }
  };
  walk(ConfigSchema as unknown as SchemaNode, '');
  return out;
}

function describeType(node: SchemaNode): string {
  if (node.anyOf) {
    if (node.anyOf.every((option) => option.const !== undefined))
      return node.anyOf.map((option) => `\`${String(option.const)}\``).join(' | ');
    return node.anyOf.map(describeType).join(' or ');
  }
  if (node.type === 'array') return `list of ${describeType(node.items ?? {})}`;
  if (node.type === 'integer') {
    if (node.minimum !== undefined && node.maximum !== undefined) return `integer ${node.minimum}..${node.maximum}`;
    return node.minimum !== undefined ? `integer ≥ ${node.minimum}` : 'integer';
  }
  if (node.type === 'string' && node.pattern) return `string matching \`${node.pattern}\``;
  if (node.type === 'string' && node.minLength && node.minLength > 1) return `string (≥ ${node.minLength} chars)`;
  return node.type ?? 'any';
}

/** The environment variables that set a list, named in the reference's introduction. */
function listVariables(): string[] {
  return configEnvBindings()
    .filter((binding) => binding.kind === 'list')
    .map((binding) => `\`${binding.name}\``);
}

const escapeCell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** docs/configuration.md, generated; `npm run docs:config` rewrites it and a test keeps it current. */
export function renderConfigDocs(): string {
  const keys = configKeys();
  const sections = new Map<string, ConfigKeyDoc[]>();
  for (const key of keys) {
    const section = key.path.includes('.') ? (key.path.split('.')[0] as string) : '(top level)';
    sections.set(section, [...(sections.get(section) ?? []), key]);
  }
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `npm run docs:config`. Do not edit by hand. -->',
    '',
    'Cascade reads `config.yaml` (the path from `--config`, else `$CASCADE_CONFIG`, else `./config.yaml` when it',
    'exists), then applies environment variables (the environment wins), then command-line flags. Everything is',
    'validated against one schema: an unknown key or a value of the wrong type stops the program with exit code 2',
    'and a message naming the key, the value it got and what it expects. Every setting has a default, so an empty',
    'file (or none) is a valid parent configuration.',
    '',
    'Environment values are strings: integers and booleans (`true/false`, `1/0`, `yes/no`, `on/off`) are converted',
    'before validation. `CASCADE_PARENT_API_URL` (or `CASCADE_PARENT_URL`; the first wins when both are set) may hold',
    'several comma-separated URLs.',
    `Lists are comma-separated too: ${listVariables().join(', ')}.`,
    '',
  ];
  for (const [section, entries] of sections) {
    lines.push(`## ${section === '(top level)' ? 'Top level' : `\`${section}\``}`, '');
    lines.push('| key | type | default | environment | description |', '|---|---|---|---|---|');
    for (const entry of entries) {
      const env = entry.env.length > 0 ? entry.env.map((name) => `\`${name}\``).join(', ') : '—';
      lines.push(
        `| \`${entry.path}\` | ${escapeCell(entry.type)} | ${escapeCell(entry.default)} | ${env} | ${escapeCell(entry.description)} |`,
      );
    }
    lines.push('');
  }
  lines.push(
    '## Examples',
    '',
    'A parent (every line optional):',
    '',
    '```yaml',
    'port: 8001',
    'database:',
    '  url: sqlite:./data/cascade.db',
    'cascade:',
    '  enabled: true',
    '  node_type: parent',
    '```',
    '',
    'A child (`cascade node add NAME` prints this block with real values):',
    '',
    '```yaml',
    'cascade:',
    '  enabled: true',
    '  node_type: child',
    '  parent_api_url: "http://parent-server:8001"',
    '  api_key: "CNxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"',
    '  api_secret: "CSxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"',
    '  notify_key: "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"',
    '  sync_interval: 300',
    '  heartbeat_interval: 60',
    '```',
    '',
  );
  return lines.join('\n');
}

export const CONFIG_DOCS_PATH = fileURLToPath(new URL('../../docs/configuration.md', import.meta.url));

// `npm run docs:config` runs this file directly.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(CONFIG_DOCS_PATH, renderConfigDocs());
  process.stdout.write(`wrote ${CONFIG_DOCS_PATH}\n`);
}
