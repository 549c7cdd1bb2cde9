import { hostname } from 'node:os';
import type { Command } from 'commander';
import { hashPassword } from '../auth/secrets.js';
import type { Config } from '../config/schema.js';
import { NodeType } from '../domain/node-liveness.js';
import { CascadeError } from '../errors/cascade-error.js';
import { JWT_KEY_SETTING, jwtSecret } from '../parent/parent-services.js';
import { redactUrl } from '../store/dialects/database-url.js';
import { SECRETS_KEY_SETTING, secretsKey, type Store } from '../store/store.js';
import { loadCliConfig, withCommonOptions, withStore, type CommonOptions } from './context.js';
import { printFields, printJson, printLine } from './output.js';
import { chosenPassword, givenPassword } from './passwords.js';

type InitOptions = CommonOptions & { adminPassword?: string; passwordStdin?: boolean };

export type InitReport = {
  database: string;
  migrations_applied: string[];
  jwt_key: 'created' | 'existing' | 'from-config';
  /** The key that seals node secrets at rest (docs/security.md, "Secrets at rest"). */
  secrets_key: 'created' | 'existing' | 'from-config';
  parent_node: { id: string; name: string; created: boolean };
  admin: { created: boolean; password?: string };
};

export function registerInit(program: Command): void {
  const command = program
    .command('init')
    .description(
      'Create or migrate the store, the JWT key, the key sealing node secrets, the parent node record and the admin user (safe to re-run).',
    )
    .option(
      '--admin-password <password>',
      'password for a new admin user (visible in `ps`: prefer --password-stdin or $CASCADE_ADMIN_PASSWORD; default: random, printed once)',
    )
    .option('--password-stdin', "read the new admin user's password from the first line of standard input")
    .action(async (options: InitOptions) => {
      const config = loadCliConfig(options);
      // Checked before the store is touched, so a bad password changes nothing.
      const given = await givenPassword({
        flag: '--admin-password',
        value: options.adminPassword,
        stdin: options.passwordStdin,
        envName: 'CASCADE_ADMIN_PASSWORD',
      });
      const adminPassword = chosenPassword(given.value, given.source);
      const report = await withStore(config, (store) => initialise(config, store, adminPassword), { migrate: true });
      if (options.json) printJson(report);
      else printInitReport(report);
    });
  withCommonOptions(command, { json: true });
}

type ChosenPassword = { password: string; generated: boolean };

async function initialise(config: Readonly<Config>, store: Store, adminPassword: ChosenPassword): Promise<InitReport> {
  const migrations = await store.migrate();
  const hadKey = (await store.settings.get(JWT_KEY_SETTING)) !== undefined;
  await jwtSecret(config, store);
  const hadSecretsKey = (await store.settings.get(SECRETS_KEY_SETTING)) !== undefined;
  await secretsKey(config, store.settings);
  const parentNode = await ensureParentNode(store);
  const admin = await ensureAdmin(store, adminPassword);
  return {
    database: redactUrl(config.database.url),
    migrations_applied: migrations,
    jwt_key: config.secret ? 'from-config' : hadKey ? 'existing' : 'created',
    secrets_key: config.secrets.key ? 'from-config' : hadSecretsKey ? 'existing' : 'created',
    parent_node: parentNode,
    admin,
  };
}

async function ensureParentNode(store: Store): Promise<InitReport['parent_node']> {
  const { list } = await store.nodes.list({ node_type: NodeType.parent }, 1, 0);
  const existing = list[0];
  if (existing) return { id: existing.id, name: existing.name, created: false };
  const preferred = hostname().trim() || 'parent';
  for (const name of [preferred, 'parent', `parent-${Date.now()}`]) {
    try {
      const { node } = await store.nodes.create({
        node_type: NodeType.parent,
        name,
        description: 'This parent (created by cascade init).',
      });
      return { id: node.id, name: node.name, created: true };
    } catch (error) {
      // A child may already use the host name; try the next candidate.
      if (!(error instanceof CascadeError && error.code === 'CONFLICT')) throw error;
    }
  }
  throw new Error('could not name the parent node record');
}

async function ensureAdmin(store: Store, { password, generated }: ChosenPassword): Promise<InitReport['admin']> {
  if (await store.users.findByUsername('admin')) return { created: false };
  await store.users.create({ username: 'admin', passwordHash: await hashPassword(password), role: 'admin' });
  return generated ? { created: true, password } : { created: true };
}

function printInitReport(report: InitReport): void {
  const keyText = {
    created: 'created and stored',
    existing: 'already present (kept)',
    'from-config': 'taken from `secret` / SECRET_KEY',
  }[report.jwt_key];
  printFields([
    ['store', report.database],
    [
      'migrations',
      report.migrations_applied.length > 0
        ? `applied ${report.migrations_applied.join(', ')}`
        : 'up to date (nothing to apply)',
    ],
    ['JWT key', keyText],
    [
      'secrets key',
      {
        created: 'created and stored (set secrets.key / CASCADE_SECRETS_KEY to keep it out of the database)',
        existing: 'already present (kept)',
        'from-config': 'taken from `secrets.key` / CASCADE_SECRETS_KEY',
      }[report.secrets_key],
    ],
    [
      'parent node',
      `${report.parent_node.name} (${report.parent_node.id})${report.parent_node.created ? ', created' : ', already present'}`,
    ],
  ]);
  if (!report.admin.created) {
    printLine(
      'admin user:  already exists; its password was not changed (use `cascade user passwd admin` to change it)',
    );
  } else if (report.admin.password) {
    printLine('admin user:  created');
    printLine(`admin password: ${report.admin.password}`);
    printLine('Store this password now: it is not shown again.');
  } else {
    printLine('admin user:  created with the password you gave');
  }
}
