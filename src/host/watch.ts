import type * as Chokidar from "chokidar";
import { importModule } from "../shared/import-module.js";

export interface Watcher {
  close(): Promise<void>;
}

const ignored = /(?:^|[/\\])(?:node_modules|\.cairn|\.git)(?:[/\\]|$)/;

/** Call `onChange` (at most once per burst of file events) when anything in the apps changes. */
export async function watchApps(dirs: string[], onChange: () => unknown): Promise<Watcher> {
  const { watch } = await importModule<typeof Chokidar>("chokidar");
  const watcher = watch(dirs, { ignored: (path) => ignored.test(path), ignoreInitial: true });
  let timer: NodeJS.Timeout | undefined;
  watcher.on("all", () => {
    clearTimeout(timer);
    timer = setTimeout(() => void onChange(), 60);
  });
  return {
    async close() {
      clearTimeout(timer);
      await watcher.close();
    },
  };
}
