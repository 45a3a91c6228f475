import { blobsProvider } from "../blobs/service.js";
import { cacheProvider } from "../cache/service.js";
import { queuesProvider } from "../events/service.js";
import { workflowsProvider } from "../workflows/service.js";
import { sessionsProvider } from "../sessions/service.js";
import { storeProvider } from "../store/service.js";
import { tablesProvider } from "../tables/service.js";
import type { ServiceProvider } from "./services.js";

/** The platform services every app gets, in the order they are opened (later ones may use earlier ones). */
export function defaultProviders(): ServiceProvider[] {
  return [
    storeProvider,
    tablesProvider,
    queuesProvider,
    workflowsProvider,
    sessionsProvider,
    cacheProvider,
    blobsProvider,
  ];
}
