import { Option, type Command } from 'commander';
import type { UserRole } from '../auth/jwt.js';
import { usernameProblem } from '../domain/user-rules.js';
import type { UserView } from '../store/users.js';
import { segment, withApiOptions, type ApiOptions } from './api-client.js';
import { withApi } from './with-api.js';
import { userByName } from './api-lookups.js';
import { UsageError } from './errors.js';
import { printJson, printLine, printTable } from './output.js';
import { chosenPassword, givenPassword } from './passwords.js';

type PasswordOptions = ApiOptions & { password?: string; passwordStdin?: boolean };
type AddOptions = PasswordOptions & { role: UserRole };

export function registerUser(program: Command): void {
  const user = program.command('user').description('Manage the users who log in to the management API.');

  withApiOptions(
    user
      .command('add <name>')
      .description('Create a user; without --password a random one is printed once.')
      .addOption(
        new Option('--role <role>', 'admin may change things, viewer only reads')
          .choices(['admin', 'viewer'])
          .default('viewer'),
      )
      .option(
        '--password <password>',
        'password (at least 8 characters; visible in `ps`: prefer --password-stdin or $CASCADE_PASSWORD; default: random, printed once)',
      )
      .option('--password-stdin', 'read the password from the first line of standard input'),
    { json: true },
  ).action(async (name: string, options: AddOptions) => {
    assertUsername(name);
    const given = await givenPassword({
      flag: '--password',
      value: options.password,
      stdin: options.passwordStdin,
      envName: 'CASCADE_PASSWORD',
    });
    const { password, generated } = chosenPassword(given.value, given.source);
    const created = await withApi(options, (api) =>
      api.call<UserView>('POST', '/api/v1/users', { username: name, password, role: options.role }),
    );
    if (options.json) return printJson(generated ? { ...created, password } : created);
    printLine(`User '${created.username}' created with role ${created.role}.`);
    if (generated) printPassword(password);
  });

  withApiOptions(user.command('list').description('List users and their roles.'), { json: true }).action(
    async (options: ApiOptions) => {
      const users = await withApi(options, (api) => api.listAll<UserView>('/api/v1/users'));
      if (options.json) return printJson(users);
      if (users.length === 0) return printLine('No users yet. Run `cascade init` to create the admin user.');
      printTable(
        ['USERNAME', 'ROLE', 'ACTIVE', 'ID', 'CREATED'],
        users.map((u) => [u.username, u.role, u.is_active ? 'yes' : 'no', u.id, u.created_at ?? '-']),
      );
    },
  );

  withApiOptions(
    user
      .command('passwd <name>')
      .description("Set a user's password; without --password a random one is printed once.")
      .option(
        '--password <password>',
        'new password (at least 8 characters; visible in `ps`: prefer --password-stdin or $CASCADE_PASSWORD; default: random, printed once)',
      )
      .option('--password-stdin', 'read the new password from the first line of standard input'),
    { json: true },
  ).action(async (name: string, options: PasswordOptions) => {
    const given = await givenPassword({
      flag: '--password',
      value: options.password,
      stdin: options.passwordStdin,
      envName: 'CASCADE_PASSWORD',
    });
    const { password, generated } = chosenPassword(given.value, given.source);
    const updated = await withApi(options, async (api) =>
      api.call<UserView>('PUT', `/api/v1/users/${segment((await userByName(api, name)).id)}`, { password }),
    );
    if (options.json) return printJson(generated ? { ...updated, password } : updated);
    printLine(`Password of '${updated.username}' changed. Tokens issued before no longer work.`);
    if (generated) printPassword(password);
  });

  // The parent refuses to disable or remove the last active admin (store/users.ts changeKeepingAnAdmin), local or remote.
  withApiOptions(
    user
      .command('disable <name>')
      .description('Stop a user from logging in; tokens issued before stop working at once.'),
    { json: true },
  ).action(async (name: string, options: ApiOptions) => {
    const updated = await withApi(options, async (api) =>
      api.call<UserView>('PUT', `/api/v1/users/${segment((await userByName(api, name)).id)}`, { is_active: false }),
    );
    if (options.json) return printJson(updated);
    printLine(`User '${updated.username}' disabled; its tokens no longer work.`);
  });

  withApiOptions(
    user.command('enable <name>').description('Let a disabled user log in again (its old tokens stay invalid).'),
    { json: true },
  ).action(async (name: string, options: ApiOptions) => {
    const updated = await withApi(options, async (api) =>
      api.call<UserView>('PUT', `/api/v1/users/${segment((await userByName(api, name)).id)}`, { is_active: true }),
    );
    if (options.json) return printJson(updated);
    printLine(`User '${updated.username}' enabled; it must log in again.`);
  });

  withApiOptions(user.command('remove <name>').description('Delete a user.'), { json: true }).action(
    async (name: string, options: ApiOptions) => {
      const removed = await withApi(options, async (api) => {
        const found = await userByName(api, name);
        await api.call<null>('DELETE', `/api/v1/users/${segment(found.id)}`);
        return found;
      });
      if (options.json) return printJson({ removed: true, user: removed });
      printLine(`User '${removed.username}' removed.`);
    },
  );
}

function assertUsername(name: string): void {
  const problem = usernameProblem(name);
  if (problem) throw new UsageError(`user name: got '${name}', ${problem}.`);
}

function printPassword(password: string): void {
  printLine(`password: ${password}`);
  printLine('Store this password now: it is not shown again.');
}
