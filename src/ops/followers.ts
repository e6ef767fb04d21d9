/**
 * Open follow streams (GetEvents with follow = true) in this process. The
 * streaming code reports them here; metrics read the count, so the stream
 * code needs no metrics library and works the same with metrics off.
 */
let active = 0;

/** Counts a follow stream as open; call the returned function once when it ends. */
export function followerOpened(): () => void {
  active++;
  let closed = false;
  return () => {
    if (closed) return;
    closed = true;
    active--;
  };
}

/** How many follow streams are open now. */
export function activeFollowers(): number {
  return active;
}
