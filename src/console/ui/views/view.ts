/** A page of the console: it fills `root`, and registers what to refresh while it is shown. */
export interface ViewContext {
  /** Path segments after the view's name (#/workflows/<id> → [id]). */
  params: string[];
  query: URLSearchParams;
  /** The apps this node serves. */
  apps: string[];
  /** Run `work` every `intervalMs` (default 2 s) while this view is shown and the tab is visible. */
  refresh(work: () => Promise<void>, intervalMs?: number): void;
  /** A short message in the status bar. */
  notice(message: string, kind?: "ok" | "error"): void;
}

export type View = (root: HTMLElement, context: ViewContext) => Promise<void> | void;
