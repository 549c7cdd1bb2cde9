import type { NodeView } from '../store/nodes.js';
import type { UserView } from '../store/users.js';
import type { CliApi } from './api-client.js';
import { CommandFailed } from './errors.js';

/** The node with this id or name (the API addresses nodes by id; people type names). */
export async function nodeByIdOrName(api: CliApi, idOrName: string): Promise<NodeView> {
  const nodes = await api.listAll<NodeView>('/api/v1/cascade/nodes');
  const node = nodes.find((n) => n.id === idOrName) ?? nodes.find((n) => n.name === idOrName);
  if (!node) throw new CommandFailed(`Node '${idOrName}' does not exist.`);
  return node;
}

/** The user with this name (the API addresses users by id). */
export async function userByName(api: CliApi, username: string): Promise<UserView> {
  const user = (await api.listAll<UserView>('/api/v1/users')).find((u) => u.username === username);
  if (!user) throw new CommandFailed(`User '${username}' does not exist.`);
  return user;
}
