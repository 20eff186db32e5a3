/**
 * Turns of the event loop inside fit, evaluate and predict. Their loops await only promises
 * that settle at once, so without these a long fit starves timers and I/O: a user's HTTP server
 * stops answering, and a test runner's own messages time out.
 */

/** Work between two turns, in ms: long enough that small fits pay nothing measurable. */
const SLICE_MS = 100;

/**
 * Kept from load time: a test's fake timers installed later would never fire it, and fit would
 * hang. Browsers have no setImmediate; a zero timeout is their turn (it also lets the page paint).
 */
const immediate: (run: () => void) => unknown = globalThis.setImmediate ?? ((run: () => void) => setTimeout(run, 0));

/** Lets the event loop run once SLICE_MS of work has passed since the last turn, or when asked. */
export class EventLoopTurns {
  private due = performance.now() + SLICE_MS;

  /** A turn if the slice is spent. */
  async maybe(): Promise<void> {
    if (performance.now() >= this.due) await this.now();
  }

  /** A turn now: setImmediate runs after the timers and I/O callbacks already waiting. */
  async now(): Promise<void> {
    await new Promise<void>((resolve) => immediate(resolve));
    this.due = performance.now() + SLICE_MS;
  }
}
