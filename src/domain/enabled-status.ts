/** `status` of a feed or a message task, as the original system stores and sends it (docs/protocol.md §4). */
export const EnabledStatus = Object.freeze({ disabled: 0, enabled: 1 } as const);
export type EnabledStatus = (typeof EnabledStatus)[keyof typeof EnabledStatus];
