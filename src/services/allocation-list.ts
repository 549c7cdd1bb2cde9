import type { AllocationFilter, AllocationView } from '../store/allocations/views.js';
import type { Store } from '../store/store.js';

/** The `/allocations` filters: the store's, plus a node named by id or name. */
export type AllocationListFilter = AllocationFilter & { node_name?: string | undefined };

/**
 * The rule of the `/allocations` node filter, in one place for the API and the CLI (which asks the API): `node_name`
 * takes a node's id or name. A node that does not exist, or one that is not the node `node_id` names, matches no
 * allocation: the answer is an empty page, never an error, as for any other filter value that matches nothing.
 */
export async function listAllocations(
  store: Store,
  filter: AllocationListFilter,
  limit: number,
  offset: number,
): Promise<{ list: AllocationView[]; total: number }> {
  const { node_name: nodeName, ...rest } = filter;
  const storeFilter: AllocationFilter = { ...rest };
  if (nodeName !== undefined) {
    const node = await store.nodes.resolve(nodeName).catch(() => undefined);
    if (!node || (storeFilter.node_id !== undefined && storeFilter.node_id !== node.id)) return { list: [], total: 0 };
    storeFilter.node_id = node.id;
  }
  return store.allocations.views.list(storeFilter, limit, offset);
}
