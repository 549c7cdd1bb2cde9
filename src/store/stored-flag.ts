/** A yes/no column (`is_active`, `require_signed`, …): stored as 0/1, the one boolean all three databases share. */
export const StoredFlag = Object.freeze({ off: 0, on: 1 } as const);
export type StoredFlag = (typeof StoredFlag)[keyof typeof StoredFlag];
