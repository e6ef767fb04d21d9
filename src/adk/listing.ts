import type { ListSessionsResponse as AdkListSessionsResponse, Session as AdkSession } from "@google/adk";
import type { Session } from "../../gen/sessiond/v1/session_pb.js";

/** Largest ListSessions page the server serves. */
export const MAX_PAGE_SIZE = 1000;

/** One server page: sessions plus the token of the next one ("" on the last). */
export interface ServerPage {
  sessions: Session[];
  nextPageToken: string;
}

/** Reads one server page of the listing, skipping `offset` sessions before the first page. */
export type PageReader = (offset: number, pageSize: number, pageToken: string) => Promise<ServerPage>;

/** ADK's listing request: `page` (1-based) wins over `offset`; no `limit` means everything from `offset`. */
export interface AdkPaging {
  limit?: number;
  offset?: number;
  page?: number;
}

/**
 * ADK's paged listing (limit, offset, page and the totals) read from the
 * server page by page: the window itself is read with the server's offset
 * and page size, and only the total past it is counted by reading on.
 * Sessions with the same update time are ordered by id, as ADK orders them.
 */
export async function listPaged(
  read: PageReader,
  paging: AdkPaging,
  order: "asc" | "desc" | undefined,
  toAdk: (session: Session) => AdkSession,
): Promise<AdkListSessionsResponse> {
  const { limit } = paging;
  const start = limit !== undefined && paging.page !== undefined ? (paging.page - 1) * limit : (paging.offset ?? 0);
  const window: Session[] = [];
  let token = "";
  let more = true;
  if (limit === undefined || limit > 0) {
    do {
      const want = limit === undefined ? MAX_PAGE_SIZE : Math.min(MAX_PAGE_SIZE, limit - window.length);
      const page = await read(start, want, token);
      window.push(...page.sessions);
      token = page.nextPageToken;
      more = token !== "";
    } while (more && (limit === undefined || window.length < limit));
  }
  let totalItems: number;
  if (window.length > 0 || start === 0) {
    totalItems = start + window.length + (more ? await countRest(read, start, token) : 0);
  } else {
    // Nothing at or past `start` (or limit 0): count the whole listing.
    totalItems = await countRest(read, 0, "");
  }
  const sessions = tieOrder(window, order).map(toAdk);
  if (limit === undefined) {
    return { sessions, page: 1, limit: totalItems, totalItems, totalPages: totalItems === 0 ? 0 : 1 };
  }
  return {
    sessions,
    page: paging.page ?? (limit === 0 ? 1 : Math.floor(start / limit) + 1),
    limit,
    totalItems,
    totalPages: limit === 0 ? 0 : Math.ceil(totalItems / limit),
  };
}

async function countRest(read: PageReader, offset: number, token: string): Promise<number> {
  let count = 0;
  do {
    const page = await read(offset, MAX_PAGE_SIZE, token);
    count += page.sessions.length;
    token = page.nextPageToken;
  } while (token !== "");
  return count;
}

/** Within equal update times, ADK lists by id in both orders; the server by (user id, id) in the listing's order. */
function tieOrder(sessions: Session[], order: "asc" | "desc" | undefined): Session[] {
  if (order === undefined) return sessions;
  const us = (s: Session) => (s.updateTime ? s.updateTime.seconds * 1_000_000n + BigInt(Math.floor(s.updateTime.nanos / 1000)) : 0n);
  const sign = order === "asc" ? 1 : -1;
  return [...sessions].sort((a, b) => {
    const ta = us(a);
    const tb = us(b);
    if (ta !== tb) return ta < tb ? -sign : sign;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
}
