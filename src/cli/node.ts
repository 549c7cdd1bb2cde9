import type { Command } from 'commander';
import type { NodeCredentials, NodeView } from '../store/nodes.js';
import { segment, withApiOptions, type ApiOptions } from './api-client.js';
import { nodeByIdOrName } from './api-lookups.js';
import { UsageError } from './errors.js';
import { registerNodeAdd } from './node-add.js';
import { NODE_COLUMNS, nodeRow, printCredentials, printNode } from './node-views.js';
import { printJson, printLine, printTable } from './output.js';
import { withApi } from './with-api.js';

type EditOptions = ApiOptions & { requireSigned?: boolean; allowPlain?: boolean };

const NODES = '/api/v1/cascade/nodes';

/**
 * `cascade node …`: child nodes through the management API (`/api/v1/cascade/nodes`), on the local store or a
 * remote parent (`--url`). What may be done to a node (the parent's own record is never deleted, only a child has
 * credentials) is decided there, the same for both.
 */
export function registerNode(program: Command): void {
  const node = program
    .command('node')
    .description('Manage child nodes: add, list, show, disable, enable, rotate credentials, remove.');

  registerNodeAdd(node);

  withApiOptions(node.command('list').description('List nodes with status, heartbeat age and load (current/max).'), {
    json: true,
  }).action(async (options: ApiOptions) => {
    const nodes = await withApi(options, (api) => api.listAll<NodeView>(NODES));
    if (options.json) return printJson(nodes);
    if (nodes.length === 0) return printLine('No nodes yet. Run `cascade init`, then `cascade node add NAME`.');
    const now = Date.now();
    printTable(
      NODE_COLUMNS,
      nodes.map((n) => nodeRow(n, now)),
    );
  });

  withApiOptions(node.command('show <id-or-name>').description('Show one node (never its secret).'), {
    json: true,
  }).action(async (idOrName: string, options: ApiOptions) => {
    const view = await withApi(options, (api) => nodeByIdOrName(api, idOrName));
    if (options.json) printJson(view);
    else printNode(view);
  });

  for (const [verb, isActive] of [
    ['disable', false],
    ['enable', true],
  ] as const) {
    withApiOptions(
      node
        .command(`${verb} <id-or-name>`)
        .description(isActive ? 'Enable a node again.' : 'Disable a node: it gets 401 until enabled again.'),
      {
        json: true,
      },
    ).action(async (idOrName: string, options: ApiOptions) => {
      const view = await withApi(options, async (api) =>
        api.call<NodeView>('PUT', `${NODES}/${segment((await nodeByIdOrName(api, idOrName)).id)}`, {
          is_active: isActive,
        }),
      );
      if (options.json) printJson(view);
      else printLine(`Node '${view.name}' ${isActive ? 'enabled' : 'disabled'}.`);
    });
  }

  withApiOptions(
    node
      .command('rotate <id-or-name>')
      .description('Issue a new key pair; the old one stops working at once. Prints the new pair once.'),
    {
      json: true,
    },
  ).action(async (idOrName: string, options: ApiOptions) => {
    const rotated = await withApi(options, async (api) =>
      api.call<NodeView & NodeCredentials>(
        'POST',
        `${NODES}/${segment((await nodeByIdOrName(api, idOrName)).id)}/credentials`,
      ),
    );
    if (options.json) return printJson(rotated);
    printCredentials(`New credentials for '${rotated.name}'; the old pair no longer works.`, rotated);
    printLine("Update api_key, api_secret and notify_key in the child's config.yaml and restart it.");
    printLine(
      'The parent keeps the new secret sealed (secrets.key), so Cascade children now sign their requests (AK-SK-HMAC); see docs/security.md.',
    );
  });

  withApiOptions(
    node
      .command('edit <id-or-name>')
      .description('Change how a node may authenticate.')
      .option('--require-signed', 'accept only signed requests (AK-SK-HMAC); the plain AK-SK header is refused')
      .option('--allow-plain', 'accept the plain AK-SK header again (the original Python child needs it)'),
    { json: true },
  ).action(async (idOrName: string, options: EditOptions) => {
    if (options.requireSigned === options.allowPlain)
      throw new UsageError('Give exactly one of --require-signed or --allow-plain.');
    const view = await withApi(options, async (api) =>
      api.call<NodeView>('PUT', `${NODES}/${segment((await nodeByIdOrName(api, idOrName)).id)}`, {
        require_signed: options.requireSigned === true,
      }),
    );
    if (options.json) return printJson(view);
    printLine(
      `Node '${view.name}': ${view.require_signed ? 'only signed requests are accepted' : 'the plain AK-SK header is accepted too'}.`,
    );
    if (view.require_signed && !view.signing_available) {
      printLine(
        'Warning: this node was created before request signing and cannot sign yet; run `cascade node rotate` for it, or it gets 401 on every request.',
      );
    }
  });

  withApiOptions(
    node
      .command('remove <id-or-name>')
      .description('Delete a node; its unfinished allocations go back to the pool in the same transaction.'),
    {
      json: true,
    },
  ).action(async (idOrName: string, options: ApiOptions) => {
    const removed = await withApi(options, async (api) => {
      const { id, name } = await nodeByIdOrName(api, idOrName);
      await api.call<null>('DELETE', `${NODES}/${segment(id)}`);
      return { id, name };
    });
    if (options.json) return printJson({ removed: true, ...removed });
    printLine(`Node '${removed.name}' (${removed.id}) removed; its unfinished work went back to the pool.`);
  });
}
