import type { ServiceProvider } from "./services.js";

/** The platform services every app gets, in the order they are opened. */
export function defaultProviders(): ServiceProvider[] {
  return [];
}
