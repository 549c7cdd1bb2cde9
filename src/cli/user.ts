import { Option, type Command } from 'commander';
import { hashPassword } from '../auth/secrets.js';
import type { UserRole } from '../auth/jwt.js';
import { notFound } from '../errors/cascade-error.js';
import type { Store } from '../store/store.js';
import type { UserView } from '../store/users.js';
import { loadCliConfig, withCommonOptions, withStore, type CommonOptions } from './context.js';
import { UsageError } from './errors.js';
import { printJson, printLine, printTable } from './output.js';
import { chosenPassword, givenPassword } from './passwords.js';

type PasswordOptions = CommonOptions & { password?: string; passwordStdin?: boolean };
type AddOptions = PasswordOptions & { role: UserRole };

export function registerUser(program: Command): void {
  const user = program.command('user').description('Manage the users who log in to the management API.');

  withCommonOptions(
    user
      .command('add <name>')
      .description('Create a user; without --password a random one is printed once.')
      .addOption(new Option('--role <role>', 'admin may change things, viewer only reads').choices(['admin', 'viewer']).default('viewer'))
      .option('--password <password>', 'password (at least 8 characters; visible in `ps`: prefer --password-stdin or $CASCADE_PASSWORD; default: random, printed once)')
      .option('--password-stdin', 'read the password from the first line of standard input'),
    { json: true },
  ).action(async (name: string, options: AddOptions) => {
    assertUsername(name);
    const config = loadCliConfig(options);
    const given = await givenPassword({ flag: '--password', value: options.password, stdin: options.passwordStdin, envName: 'CASCADE_PASSWORD' });
    const { password, generated } = chosenPassword(given.value, given.source);
    const created = await withStore(config, async (store) =>
      store.users.create({ username: name, passwordHash: await hashPassword(password), role: options.role }),
    );
    if (options.json) return printJson(generated ? { ...created, password } : created);
    printLine(`User '${created.username}' created with role ${created.role}.`);
    if (generated) printPassword(password);
  });

  withCommonOptions(user.command('list').description('List users and their roles.'), { json: true }).action(async (options: CommonOptions) => {
    const config = loadCliConfig(options);
    const users = await withStore(config, allUsers);
    if (options.json) return printJson(users);
    if (users.length === 0) return printLine('No users yet. Run `cascade init` to create the admin user.');
    printTable(['USERNAME', 'ROLE', 'ACTIVE', 'ID', 'CREATED'], users.map((u) => [u.username, u.role, u.is_active ? 'yes' : 'no', u.id, u.created_at ?? '-']));
  });

  withCommonOptions(
    user
      .command('passwd <name>')
      .description("Set a user's password; without --password a random one is printed once.")
      .option('--password <password>', 'new password (at least 8 characters; visible in `ps`: prefer --password-stdin or $CASCADE_PASSWORD; default: random, printed once)')
      .option('--password-stdin', 'read the new password from the first line of standard input'),
    { json: true },
  ).action(async (name: string, options: PasswordOptions) => {
    const config = loadCliConfig(options);
    const given = await givenPassword({ flag: '--password', value: options.password, stdin: options.passwordStdin, envName: 'CASCADE_PASSWORD' });
    const { password, generated } = chosenPassword(given.value, given.source);
    const updated = await withStore(config, async (store) => {
      const row = await store.users.findByUsername(name);
      if (!row) throw notFound('User', name);
      return store.users.update(row.id, { passwordHash: await hashPassword(password) });
    });
    if (options.json) return printJson(generated ? { ...updated, password } : updated);
    printLine(`Password of '${updated.username}' changed. Tokens issued before no longer work.`);
    if (generated) printPassword(password);
  });
}

async function allUsers(store: Store): Promise<UserView[]> {
  const users: UserView[] = [];
  for (let offset = 0; ; offset += 200) {
    const { list, total } = await store.users.list(200, offset);
    users.push(...list);
    if (list.length === 0 || users.length >= total) return users;
  }
}

function assertUsername(name: string): void {
  if (name.trim() === '' || name.length > 191) throw new UsageError(`user name: got '${name}', expected 1 to 191 characters.`);
}

function printPassword(password: string): void {
  printLine(`password: ${password}`);
  printLine('Store this password now: it is not shown again.');
}
