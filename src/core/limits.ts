/** Limits enforced on every request; docs/api.md lists them for users. */
export const limits = {
  /** Longest app name, user id, session id or event id, in Unicode code points. */
  maxIdLength: 128,
  /** Longest free-text label (author, branch, error code), in Unicode code points. */
  maxLabelLength: 1024,
  /** Most events in one AppendEvents call. */
  maxEventsPerBatch: 1000,
  /** Largest encoded request or response message, in bytes. */
  maxMessageBytes: 16 * 1024 * 1024,
  /** Largest JSON encoding of one event (content, actions, metadata), in bytes. */
  maxEventBytes: 1024 * 1024,
  /** Largest JSON encoding of a session's initial state or metadata, in bytes. */
  maxSessionFieldBytes: 1024 * 1024,
  /**
   * Deepest nesting of objects and arrays in a JSON field (state, deltas,
   * metadata, content, custom actions), the field's own object counting as 1.
   * Two limits meet here. Protobuf decoders in C++, Java and Python stop at
   * 100 nested messages and every JSON object costs three of them (Struct,
   * map entry, Value): 33 levels still decode. MariaDB's JSON columns hold
   * at most 32 levels counting scalar leaves as one, and an event's actions
   * are stored inside one more object: 30 levels still fit.
   */
  maxJsonDepth: 30,
  /**
   * Earliest event timestamp, 1700-01-01T00:00:00Z, in microseconds since the
   * epoch. With {@link limits.maxTimestampUs} it bounds a range that every
   * store holds exactly (integer microseconds below 2^53) and every protocol
   * encodes.
   */
  minTimestampUs: -8_520_336_000_000_000,
  /** Latest event timestamp, 2199-12-31T23:59:59.999999Z, in microseconds since the epoch. */
  maxTimestampUs: 7_258_118_399_999_999,
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
