/** Limits enforced on every request; docs/api.md lists them for users. */
export const limits = {
  /** Longest app name, user id, session id or event id, in characters. */
  maxIdLength: 128,
  /** Most events in one AppendEvents call. */
  maxEventsPerBatch: 1000,
  /** Largest encoded request or response message, in bytes. */
  maxMessageBytes: 16 * 1024 * 1024,
  /** Largest JSON encoding of one event (content, actions, metadata), in bytes. */
  maxEventBytes: 1024 * 1024,
  /** Largest JSON encoding of a session's initial state or metadata, in bytes. */
  maxSessionFieldBytes: 1024 * 1024,
  /** Largest page of ListSessions and ListEvents. */
  maxPageSize: 1000,
  /** Page size when a request leaves it unset. */
  defaultPageSize: 100,
  /** Most events in one GetEvents message. */
  maxStreamMessageEvents: 500,
  /**
   * Estimated encoded bytes of one GetEvents message (see estimateEventBytes);
   * an event larger than this is sent alone.
   */
  maxStreamMessageBytes: 1024 * 1024,
} as const;
