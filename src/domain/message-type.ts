/** `message_type` of a message task, as the original system stores and sends it (docs/protocol.md §4). */
export const MessageType = Object.freeze({ message: 0, webhook: 1 } as const);
export type MessageType = (typeof MessageType)[keyof typeof MessageType];
