import { h } from "./dom.js";

/** How close to the end, in pixels, still counts as "at the bottom". */
const BOTTOM_SLACK = 48;

/**
 * Keeps a live list in view: while the reader is at the bottom, new rows
 * scroll into view; otherwise a "N new" button counts them and jumps down.
 * New rows stay highlighted until the reader has had them on screen and
 * then touched the page.
 */
export class TailScroll {
  readonly button = h("button", { type: "button", class: "new-events", hidden: true, onclick: () => this.jump() });
  private unseen = 0;
  private readonly fresh = new Set<HTMLElement>();
  private readonly seen = new Set<HTMLElement>();

  constructor(private readonly content: HTMLElement) {
    const onScroll = () => {
      if (this.atBottom()) this.caughtUp();
    };
    // The page scrolls on phones, the pane on wide screens: listen to both.
    window.addEventListener("scroll", onScroll, { passive: true });
    content.addEventListener("scroll", onScroll, { passive: true, capture: true });
    for (const type of ["wheel", "pointerdown", "keydown", "touchstart"]) {
      window.addEventListener(type, () => this.fade(), { passive: true });
    }
  }

  /** True when the end of the content is on screen. */
  atBottom(): boolean {
    const s = this.scroller();
    return s.scrollHeight - s.scrollTop - s.clientHeight <= BOTTOM_SLACK;
  }

  /** Call before adding rows; returns what to call after, with the rows added. */
  beforeAdd(): (rows: HTMLElement[]) => void {
    const follow = this.atBottom();
    return (rows) => {
      if (rows.length === 0) return;
      for (const row of rows) {
        row.classList.add("fresh");
        this.fresh.add(row);
      }
      if (follow) {
        this.toBottom();
        for (const row of rows) this.seen.add(row);
      } else {
        this.unseen += rows.length;
        this.button.textContent = `${this.unseen} new ↓`;
        this.button.hidden = false;
      }
    };
  }

  /** Forgets the counter and highlights, e.g. when another session opens. */
  reset(): void {
    this.unseen = 0;
    this.button.hidden = true;
    this.fresh.clear();
    this.seen.clear();
  }

  private jump(): void {
    this.toBottom();
    this.caughtUp();
  }

  private caughtUp(): void {
    if (this.unseen === 0) return;
    this.unseen = 0;
    this.button.hidden = true;
    for (const row of this.fresh) this.seen.add(row);
  }

  private fade(): void {
    for (const row of this.seen) {
      setTimeout(() => row.classList.remove("fresh"), 2500);
      this.fresh.delete(row);
    }
    this.seen.clear();
  }

  private toBottom(): void {
    const s = this.scroller();
    s.scrollTop = s.scrollHeight;
  }

  /** The nearest scrolling ancestor of the content, or the page. */
  private scroller(): HTMLElement {
    for (let el: HTMLElement | null = this.content; el; el = el.parentElement) {
      const overflow = getComputedStyle(el).overflowY;
      if ((overflow === "auto" || overflow === "scroll") && el.scrollHeight > el.clientHeight) return el;
    }
    return document.scrollingElement as HTMLElement;
  }
}
