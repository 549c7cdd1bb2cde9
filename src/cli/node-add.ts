import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { NodeType } from '../domain/node-liveness.js';
import type { NodeCredentials, NodeView } from '../store/nodes.js';
import { remoteUrlOf, withApiOptions, type ApiOptions } from './api-client.js';
import { integerOption, loadCliConfig } from './context.js';
import { UsageError } from './errors.js';
import { childConfigYaml, defaultParentUrl, printCredentials } from './node-views.js';
import { printJson, printLine } from './output.js';
import { withApi } from './with-api.js';

type AddOptions = ApiOptions & {
  apiUrl?: string;
  desc?: string;
  capacity?: number;
  parentUrl?: string;
  requireSigned?: boolean;
  writeConfig?: string;
};

/**
 * `cascade node add NAME`: creates a child node through `POST /api/v1/cascade/nodes` (local store or `--url`) and
 * prints its credentials once, with a ready config block for the child.
 */
export function registerNodeAdd(node: Command): void {
  withApiOptions(
    node
      .command('add <name>')
      .description('Create a child node; prints its credentials once and a ready child config.yaml block.')
      .option('--api-url <url>', "the child's own address (http or https), used by test-connection")
      .option('--desc <text>', 'description')
      .option(
        '--capacity <n>',
        'most feeds the node works on at once (max_capacity, default 10)',
        integerOption(1, 10000),
      )
      .option(
        '--parent-url <url>',
        'parent address written into the config block (default: --url when given, else this host and the configured port)',
      )
      .option(
        '--require-signed',
        'accept only signed requests (AK-SK-HMAC) from this node; the plain AK-SK header is refused (the original Python child sends only that)',
      )
      .option(
        '--write-config <path>',
        "also write the child's config block to this new file, readable by you only (mode 600)",
      ),
    { json: true },
  ).action(async (name: string, options: AddOptions) => {
    // The same limits as POST /nodes, checked here too so a mistake is told in the flags' words before anything runs.
    if (name.trim() === '' || name.length > 191)
      throw new UsageError(`NAME: got '${name}', expected 1 to 191 characters.`);
    if (options.desc !== undefined && options.desc.length > 1000)
      throw new UsageError('--desc: expected at most 1000 characters.');
    for (const [flag, url] of [
      ['--api-url', options.apiUrl],
      ['--parent-url', options.parentUrl],
    ] as const) {
      if (url !== undefined && !isHttpUrl(url))
        throw new UsageError(`${flag}: got '${url}', expected an http:// or https:// URL.`);
    }
    const remote = remoteUrlOf(options);
    // The child's own settings in the block (sync and heartbeat interval) come from the config this command reads;
    // through --url no store is opened, so its database URL does not matter.
    const config = remote === undefined ? loadCliConfig(options) : loadConfig({ configPath: options.config });
    // Claimed before the node exists: a file that exists or cannot be written must not leave a node whose secret
    // nobody saw, and no file can appear in between (`wx`).
    const file = options.writeConfig === undefined ? undefined : claimNewFile(options.writeConfig);
    let created: NodeView & NodeCredentials;
    try {
      created = await withApi(options, (api) =>
        api.call<NodeView & NodeCredentials>('POST', '/api/v1/cascade/nodes', {
          node_type: NodeType.child,
          name,
          description: options.desc,
          api_url: options.apiUrl,
          require_signed: options.requireSigned === true,
          sync_config: options.capacity === undefined ? undefined : { max_capacity: options.capacity },
        }),
      );
    } catch (error) {
      if (file) file.discard();
      throw error;
    }
    const pair: NodeCredentials = {
      api_key: created.api_key,
      api_secret: created.api_secret,
      notify_key: created.notify_key,
    };
    const yaml = childConfigYaml(options.parentUrl ?? remote ?? defaultParentUrl(config), pair, config, created.name);
    if (file) file.write(yaml);
    if (options.json) {
      printJson({
        ...created,
        child_config_yaml: yaml,
        ...(options.writeConfig === undefined ? {} : { config_file: options.writeConfig }),
      });
      return;
    }
    printCredentials(
      `Node '${created.name}' created (id ${created.id}, capacity ${created.sync_config.max_capacity}).`,
      pair,
    );
    if (options.writeConfig !== undefined) {
      printLine(
        `Wrote the child's config to ${options.writeConfig} (mode 600); check parent_api_url is the address the child can reach.`,
      );
      return;
    }
    printLine("Paste this into the child's config.yaml (check parent_api_url is the address the child can reach):");
    printLine();
    printLine(yaml.replace(/\n$/, ''));
  });
}

/** A new, empty file of mode 0600 (it will hold the secret), to fill once the node exists or remove if it never does. */
function claimNewFile(path: string): { write(text: string): void; discard(): void } {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST')
      throw new UsageError(
        `--write-config: ${path} already exists; remove it or name another file (it would hold the new secret).`,
      );
    throw new UsageError(`--write-config: cannot create ${path} (${code ?? (error as Error).message}).`);
  }
  return {
    write(text) {
      try {
        writeSync(fd, text);
      } finally {
        closeSync(fd);
      }
    },
    discard() {
      closeSync(fd);
      rmSync(path, { force: true });
    },
  };
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
