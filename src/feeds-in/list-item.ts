import type { FeedEntry } from '../domain/feed-entries.js';

/**
 * One item a feed list file holds, as its format's reader found it: a feed entry, or why the item cannot be one.
 * `at` says where it is in the file in words a person can find it by (`line 12`, `item 3`).
 */
export type ListItem = { at: string } & ({ entry: FeedEntry } | { problem: string } | { ignored: string });

/** The file as a whole cannot be read as the format it claims (or seems) to be. */
export class FeedListError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FeedListError';
  }
}
