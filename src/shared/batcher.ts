/**
 * Collects messages for a thread and sends everything gathered in one turn of the event loop as a
 * single postMessage. Under load this turns hundreds of wake-ups and message events into a few;
 * at rest it adds nothing but the wait for the current turn to end.
 */
export class Batcher<T> {
  private items: T[] = [];
  private transfer: ArrayBuffer[] = [];
  private scheduled = false;

  constructor(private readonly send: (payload: T | T[], transfer: ArrayBuffer[]) => void) {}

  push(item: T, transfer?: ArrayBuffer): void {
    this.items.push(item);
    if (transfer !== undefined) this.transfer.push(transfer);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  readonly flush = (): void => {
    this.scheduled = false;
    const items = this.items;
    if (items.length === 0) return;
    const transfer = this.transfer;
    this.items = [];
    this.transfer = [];
    this.send(items.length === 1 ? items[0]! : items, transfer);
  };
}

/** Calls `handle` for a single message or for each message of a batch. */
export function unbatch<T>(payload: T | T[], handle: (item: T) => void): void {
  if (Array.isArray(payload)) for (const item of payload) handle(item);
  else handle(payload);
}
