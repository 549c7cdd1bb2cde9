import { existsSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { NodeType } from '../domain/node-liveness.js';
import type { NodeCredentials, NodeView } from '../store/nodes.js';
import type { Store } from '../store/store.js';
import { integerOption, loadCliConfig, withCommonOptions, withStore, type CommonOptions } from './context.js';
import { UsageError } from './errors.js';
import { childConfigYaml, defaultParentUrl, NODE_COLUMNS, nodeRow, printNode } from './node-views.js';
import { printJson, printLine, printTable } from './output.js';

type AddOptions = CommonOptions & { apiUrl?: string; desc?: string; capacity?: number; parentUrl?: string; requireSigned?: boolean; writeConfig?: string };
type EditOptions = CommonOptions & { requireSigned?: boolean; allowPlain?: boolean };

const PAGE = 200;

export function registerNode(program: Command): void {
  const node = program.command('node').description('Manage child nodes: add, list, show, disable, enable, rotate credentials, remove.');

  withCommonOptions(
    node
      .command('add <name>')
      .description('Create a child node; prints its credentials once and a ready child config.yaml block.')
      .option('--api-url <url>', "the child's own address (http or https), used by test-connection")
      .option('--desc <text>', 'description')
      .option('--capacity <n>', 'most feeds the node works on at once (max_capacity, default 10)', integerOption(1, 10000))
      .option('--parent-url <url>', 'parent address written into the config block (default: this host and the configured port)')
      .option('--require-signed', 'accept only signed requests (AK-SK-HMAC) from this node; the plain AK-SK header is refused (the original Python child sends only that)')
      .option('--write-config <path>', "also write the child's config block to this new file, readable by you only (mode 600)"),
    { json: true },
  ).action(async (name: string, options: AddOptions) => {
    const config = loadCliConfig(options);
    // The same limits as POST /nodes, so a name the CLI accepts is one the API and every store accept too.
    if (name.trim() === '' || name.length > 191) throw new UsageError(`NAME: got '${name}', expected 1 to 191 characters.`);
    if (options.desc !== undefined && options.desc.length > 1000) throw new UsageError('--desc: expected at most 1000 characters.');
    for (const [flag, url] of [['--api-url', options.apiUrl], ['--parent-url', options.parentUrl]] as const) {
      if (url !== undefined && !isHttpUrl(url)) throw new UsageError(`${flag}: got '${url}', expected an http:// or https:// URL.`);
    }
    // Before the node exists: a refusal must not leave a node whose secret nobody saw.
    if (options.writeConfig !== undefined && existsSync(options.writeConfig)) {
      throw new UsageError(`--write-config: ${options.writeConfig} already exists; remove it or name another file (it would hold the new secret).`);
    }
    const { node: created, credentials } = await withStore(config, (store) =>
      store.nodes.create({
        node_type: NodeType.child,
        name,
        description: options.desc,
        api_url: options.apiUrl,
        require_signed: options.requireSigned === true,
        sync_config: options.capacity === undefined ? undefined : { max_capacity: options.capacity },
      }),
    );
    const pair = credentials as NodeCredentials;
    const parentUrl = options.parentUrl ?? defaultParentUrl(config);
    const yaml = childConfigYaml(parentUrl, pair, config, created.name);
    // `wx`: never overwrite a file that appeared since the check above; 0600: it holds the secret.
    if (options.writeConfig !== undefined) writeFileSync(options.writeConfig, yaml, { mode: 0o600, flag: 'wx' });
    if (options.json) {
      printJson({ ...created, ...pair, child_config_yaml: yaml, ...(options.writeConfig === undefined ? {} : { config_file: options.writeConfig }) });
      return;
    }
    printCredentials(`Node '${created.name}' created (id ${created.id}, capacity ${created.sync_config.max_capacity}).`, pair);
    if (options.writeConfig !== undefined) {
      printLine(`Wrote the child's config to ${options.writeConfig} (mode 600); check parent_api_url is the address the child can reach.`);
      return;
    }
    printLine("Paste this into the child's config.yaml (check parent_api_url is the address the child can reach):");
    printLine();
    printLine(yaml.replace(/\n$/, ''));
  });

  withCommonOptions(node.command('list').description('List nodes with status, heartbeat age and load (current/max).'), { json: true }).action(
    async (options: CommonOptions) => {
      const config = loadCliConfig(options);
      const nodes = await withStore(config, allNodes);
      if (options.json) return printJson(nodes);
      if (nodes.length === 0) return printLine('No nodes yet. Run `cascade init`, then `cascade node add NAME`.');
      const now = Date.now();
      printTable(NODE_COLUMNS, nodes.map((n) => nodeRow(n, now)));
    },
  );

  withCommonOptions(node.command('show <id-or-name>').description('Show one node (never its secret).'), { json: true }).action(
    async (idOrName: string, options: CommonOptions) => {
      const config = loadCliConfig(options);
      const view = await withStore(config, async (store) => store.nodes.view(await store.nodes.resolve(idOrName)));
      if (options.json) printJson(view);
      else printNode(view);
    },
  );

  for (const [verb, isActive] of [['disable', false], ['enable', true]] as const) {
    withCommonOptions(
      node.command(`${verb} <id-or-name>`).description(isActive ? 'Enable a node again.' : 'Disable a node: it gets 401 until enabled again.'),
      { json: true },
    ).action(async (idOrName: string, options: CommonOptions) => {
      const config = loadCliConfig(options);
      const view = await withStore(config, async (store) => store.nodes.update((await store.nodes.resolve(idOrName)).id, { is_active: isActive }));
      if (options.json) printJson(view);
      else printLine(`Node '${view.name}' ${isActive ? 'enabled' : 'disabled'}.`);
    });
  }

  withCommonOptions(
    node.command('rotate <id-or-name>').description('Issue a new key pair; the old one stops working at once. Prints the new pair once.'),
    { json: true },
  ).action(async (idOrName: string, options: CommonOptions) => {
    const config = loadCliConfig(options);
    const { node: view, credentials } = await withStore(config, async (store) => store.nodes.rotateCredentials((await store.nodes.resolve(idOrName)).id));
    if (options.json) return printJson({ ...view, ...credentials });
    printCredentials(`New credentials for '${view.name}'; the old pair no longer works.`, credentials);
    printLine("Update api_key, api_secret and notify_key in the child's config.yaml and restart it.");
    printLine('The parent keeps the new secret sealed (secrets.key), so Cascade children now sign their requests (AK-SK-HMAC); see docs/security.md.');
  });

  withCommonOptions(
    node
      .command('edit <id-or-name>')
      .description('Change how a node may authenticate.')
      .option('--require-signed', 'accept only signed requests (AK-SK-HMAC); the plain AK-SK header is refused')
      .option('--allow-plain', 'accept the plain AK-SK header again (the original Python child needs it)'),
    { json: true },
  ).action(async (idOrName: string, options: EditOptions) => {
    if (options.requireSigned === options.allowPlain) throw new UsageError('Give exactly one of --require-signed or --allow-plain.');
    const config = loadCliConfig(options);
    const view = await withStore(config, async (store) => store.nodes.update((await store.nodes.resolve(idOrName)).id, { require_signed: options.requireSigned === true }));
    if (options.json) return printJson(view);
    printLine(`Node '${view.name}': ${view.require_signed ? 'only signed requests are accepted' : 'the plain AK-SK header is accepted too'}.`);
    if (view.require_signed && !view.signing_available) {
      printLine('Warning: this node was created before request signing and cannot sign yet; run `cascade node rotate` for it, or it gets 401 on every request.');
    }
  });

  registerNodeRemove(node);
}

/** Registered separately to keep registerNode readable: removal returns the node's unfinished work to the pool. */
function registerNodeRemove(node: Command): void {
  withCommonOptions(
    node.command('remove <id-or-name>').description("Delete a node; its unfinished allocations go back to the pool in the same transaction."),
    { json: true },
  ).action(async (idOrName: string, options: CommonOptions) => {
    const config = loadCliConfig(options);
    const removed = await withStore(config, async (store) => {
      const row = await store.nodes.resolve(idOrName);
      await store.allocations.deleteNode(row.id);
      return { id: row.id, name: row.name };
    });
    if (options.json) return printJson({ removed: true, ...removed });
    printLine(`Node '${removed.name}' (${removed.id}) removed; its unfinished work went back to the pool.`);
  });
}

/** Every node, page by page (the store caps a page at 200). */
async function allNodes(store: Store): Promise<NodeView[]> {
  const nodes: NodeView[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const { list, total } = await store.nodes.list({}, PAGE, offset);
    nodes.push(...list);
    if (list.length === 0 || nodes.length >= total) return nodes;
  }
}

function printCredentials(headline: string, credentials: NodeCredentials): void {
  printLine(headline);
  printLine();
  printLine(`  api_key:    ${credentials.api_key}`);
  printLine(`  api_secret: ${credentials.api_secret}`);
  printLine(`  notify_key: ${credentials.notify_key}`);
  printLine();
  printLine('Store the secret and the notify key now: they are shown only this once.');
  printLine();
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
