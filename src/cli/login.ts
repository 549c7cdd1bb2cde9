import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { apiOver, remoteUrlOf } from './api-client.js';
import { httpTransport } from './api-remote.js';
import { credentialsPath, forgetLogin, saveLogin } from './credentials.js';
import { UsageError } from './errors.js';
import { printError, printJson, printLine } from './output.js';
import { givenPassword } from './passwords.js';

type LoginOptions = { url?: string; username?: string; passwordStdin?: boolean; json?: boolean };

type LoginAnswer = { access_token: string; expires_at: string; user: { id: string; username: string; role: string } };

/** `cascade login` and `cascade logout`: a token per parent URL in the user's credentials file (0600). */
export function registerLogin(program: Command): void {
  program
    .command('login')
    .description(
      'Log in to a remote parent and keep the token (in $XDG_CONFIG_HOME/cascade/credentials.json, mode 0600) for --url / CASCADE_URL.',
    )
    .option('--url <url>', 'the parent (default: $CASCADE_URL)')
    .option('--username <name>', 'who logs in (default: $CASCADE_USERNAME, else admin)')
    .option(
      '--password-stdin',
      'read the password from the first line of standard input (else $CASCADE_PASSWORD, else a prompt on the terminal)',
    )
    .option('--json', 'print JSON instead of a sentence')
    .action(async (options: LoginOptions) => {
      const url = requiredUrl(options.url);
      const username = options.username ?? process.env.CASCADE_USERNAME ?? 'admin';
      const given = await givenPassword({
        flag: '--password',
        value: undefined,
        stdin: options.passwordStdin,
        envName: 'CASCADE_PASSWORD',
      });
      const password = given.value ?? (await promptPassword(`Password for ${username} at ${url}: `));
      const answer = await apiOver(httpTransport(url)).call<LoginAnswer>('POST', '/api/v1/auth/login', {
        username,
        password,
      });
      const path = saveLogin(url, {
        token: answer.access_token,
        username: answer.user.username,
        expires_at: answer.expires_at,
      });
      if (options.json)
        return printJson({
          url,
          username: answer.user.username,
          role: answer.user.role,
          expires_at: answer.expires_at,
          credentials_file: path,
        });
      printLine(
        `Logged in to ${url} as ${answer.user.username} (${answer.user.role}) until ${answer.expires_at}; token saved in ${path}.`,
      );
    });

  program
    .command('logout')
    .description('Forget the token saved for a parent (it stays valid at the parent until it expires).')
    .option('--url <url>', 'the parent (default: $CASCADE_URL)')
    .action((options: { url?: string }) => {
      const url = requiredUrl(options.url);
      printLine(
        forgetLogin(url)
          ? `Logged out of ${url} (token removed from ${credentialsPath()}).`
          : `No saved login for ${url}.`,
      );
    });
}

function requiredUrl(url: string | undefined): string {
  const resolved = remoteUrlOf({ url });
  if (resolved === undefined) throw new UsageError('which parent? Pass --url http://host:port or set CASCADE_URL.');
  return resolved;
}

/** Reads a password from the terminal without echoing it; without a terminal there is nobody to ask. */
async function promptPassword(question: string): Promise<string> {
  if (!process.stdin.isTTY)
    throw new UsageError('no password: use --password-stdin, set CASCADE_PASSWORD, or run on a terminal to be asked.');
  const output = process.stderr;
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  // Echo nothing of what is typed after the question.
  const muted = rl as unknown as { _writeToOutput: (text: string) => void };
  let asked = false;
  muted._writeToOutput = (text: string) => {
    if (!asked) output.write(text);
  };
  try {
    return await new Promise<string>((resolve) => {
      rl.question(question, (answer) => resolve(answer));
      asked = true;
    });
  } finally {
    rl.close();
    printError('');
  }
}
