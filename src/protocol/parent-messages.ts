import { Type, type Static } from '@sinclair/typebox';
import { AllocationId, closed, FeedId } from './wire-primitives.js';

/**
 * What the parent sends a child (docs/protocol.md §3.2, §3.3): the claim's task package, the heartbeat's answer, the
 * upload's answer and the wake-up notify. The parent builds them (src/store/allocations/views.ts, the child routes)
 * and a test checks real answers against these schemas; the child imports only the erased types.
 */

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

/** A feed in a task package: the feed's row, and the validators of its last completion the parent accepted. */
export const PackageFeed = closed({
  id: FeedId,
  faker_id: Type.String(),
  mp_name: Type.String(),
  mp_cover: Type.String(),
  mp_intro: Type.String(),
  url: Type.String({ description: 'The source to fetch; empty when the feed was deleted after dispatch.' }),
  status: Type.Integer({ description: '1 enabled, 0 disabled (or deleted after dispatch).' }),
  etag: Nullable(Type.String({ description: 'For a conditional GET.' })),
  last_modified: Nullable(Type.String({ description: 'For a conditional GET.' })),
});
export type PackageFeed = Static<typeof PackageFeed>;

/** One allocation of one task, as a claim returns it, with the task's headers and cookies (only ever to its holder). */
export const TaskPackage = closed({
  allocation_id: AllocationId,
  task_id: Type.String(),
  task_name: Type.String(),
  message_type: Type.Integer({ description: '0 message, 1 webhook.' }),
  message_template: Type.String(),
  web_hook_url: Type.String(),
  cron_exp: Type.String(),
  headers: Type.Record(Type.String(), Type.String(), { description: "The task's request headers, parsed." }),
  cookies: Type.String({
    description: "The task's cookies as stored: JSON text of an object, or a Cookie header value.",
  }),
  feeds: Type.Array(PackageFeed),
  dispatched_at: Nullable(Type.String()),
  attempt: Type.Integer({ minimum: 1, description: 'Send it back with every report about this package.' }),
  lease_expires_at: Nullable(Type.String()),
});
export type TaskPackage = Static<typeof TaskPackage>;

/**
 * A package as a child must read it: a Cascade parent sends every field above, but the original parent sends no
 * `attempt` or validators and keeps `headers`/`cookies` as JSON text, so only the ids, the name and each feed's `id`
 * and `url` can be counted on.
 */
export type ReceivedPackageFeed = Pick<PackageFeed, 'id' | 'url'> & Partial<PackageFeed>;
export type ReceivedTaskPackage = Pick<TaskPackage, 'allocation_id' | 'task_id' | 'task_name'> &
  Partial<Omit<TaskPackage, 'feeds' | 'headers' | 'cookies'>> & {
    feeds: ReceivedPackageFeed[];
    headers?: TaskPackage['headers'] | string | null;
    cookies?: Record<string, string> | string | null;
  };

/** The heartbeat's answer. Fields marked "absent from older parents" were added later; a child treats them as optional. */
export const HeartbeatAnswer = closed({
  status: Type.Literal('alive'),
  node_id: Type.String(),
  node_name: Type.Optional(Type.String({ description: 'Absent from older parents.' })),
  server_time: Type.String({ description: "The parent's clock, ISO 8601 UTC." }),
  offline_after_s: Type.Integer({ description: 'Seconds without a heartbeat after which the node counts as offline.' }),
  leases_extended: Type.Integer({ minimum: 0 }),
  released_unlisted: Type.Optional(
    Type.Integer({
      minimum: 0,
      description:
        "Allocations requeued because the heartbeat's held_allocation_ids left them out. Absent from older parents.",
    }),
  ),
  max_capacity: Type.Optional(
    Type.Integer({ minimum: 1, description: "The node's max_capacity. Absent from older parents." }),
  ),
});
export type HeartbeatAnswer = Static<typeof HeartbeatAnswer>;

/** The answer to `upload-articles`. */
export const UploadAnswer = closed({ received: Type.Integer({ minimum: 0 }), new_count: Type.Integer({ minimum: 0 }) });
export type UploadAnswer = Static<typeof UploadAnswer>;

/** The parent's wake-up call (§3.3), signed by src/auth/notify-signature.ts; the body carries its own time and nonce. */
export const NotifyMessage = closed({
  type: Type.Literal('new_task'),
  allocation_id: AllocationId,
  feed_count: Type.Integer({ minimum: 0 }),
  timestamp: Type.String(),
  nonce: Type.String({ minLength: 1 }),
});
export type NotifyMessage = Static<typeof NotifyMessage>;
