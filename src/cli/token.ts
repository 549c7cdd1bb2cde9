import type { Command } from 'commander';
import { JwtSigner } from '../auth/jwt.js';
import { randomToken } from '../auth/secrets.js';
import { JWT_KEY_SETTING, jwtSecret } from '../parent/parent-services.js';
import { integerOption, loadCliConfig, withCommonOptions, withStore, type CommonOptions } from './context.js';
import { CommandFailed } from './errors.js';
import { printJson, printLine } from './output.js';

type TokenOptions = CommonOptions & { user: string; ttl?: number };

export function registerToken(program: Command): void {
  const tokenCommand = program.command('token');
  withCommonOptions(
    tokenCommand
      .description(
        "Mint a JWT for scripts from the parent's own store (no password needed; run it where the store is).",
      )
      .option('--user <name>', 'user the token speaks for', 'admin')
      .option('--ttl <minutes>', 'lifetime in minutes (default: token_expire_minutes)', integerOption(1, 525600)),
    { json: true },
  ).action(async (options: TokenOptions) => {
    const config = loadCliConfig(options);
    const ttlMinutes = options.ttl ?? config.token_expire_minutes;
    const { token, expiresAt, user } = await withStore(config, async (store) => {
      const user = await store.users.findByUsername(options.user);
      if (!user) throw new CommandFailed(`User '${options.user}' does not exist (see \`cascade user list\`).`);
      if (!user.isActive) throw new CommandFailed(`User '${options.user}' is disabled.`);
      const signer = new JwtSigner(await jwtSecret(config, store));
      const signed = await signer.sign(
        {
          id: user.id,
          username: user.username,
          role: user.role,
          tokenGeneration: user.tokenGeneration,
        },
        ttlMinutes * 60,
      );
      return { ...signed, user: { id: user.id, username: user.username, role: user.role } };
    });
    if (!options.json) return printLine(token);
    printJson({
      access_token: token,
      token_type: 'bearer',
      expires_in: ttlMinutes * 60,
      expires_at: new Date(expiresAt * 1000).toISOString(),
      user,
    });
  });
  registerRotateKey(tokenCommand);
}

/** `cascade token rotate-key`: a new JWT signing key in the store; every token signed with the old one stops working. */
function registerRotateKey(token: Command): void {
  withCommonOptions(
    token
      .command('rotate-key')
      .description(
        'Replace the JWT signing key kept in the store: every login token issued so far becomes invalid. Restart the parents to apply it.',
      ),
    { json: true },
  ).action(async (options: CommonOptions) => {
    const config = loadCliConfig(options);
    if (config.secret)
      throw new CommandFailed(
        'The JWT key comes from the configuration (secret / SECRET_KEY), not the store: change it there and restart the parents.',
      );
    await withStore(config, async (store) => {
      const fresh = randomToken(64);
      if (!(await store.settings.replace(JWT_KEY_SETTING, fresh)))
        await store.settings.getOrCreate(JWT_KEY_SETTING, () => fresh);
    });
    const message =
      'JWT signing key replaced. Every token issued before is invalid: users log in again and scripts need a new `cascade token`. ' +
      'Running parents read the key at start: restart every parent process now; until then they still accept the old tokens.';
    if (options.json) printJson({ rotated: true, message });
    else printLine(message);
  });
}
