import type { Migration } from "./types.js";

/**
 * Every migration of every service, in the order they apply. Names sort in that order and are
 * never changed once released: a database remembers which names it has applied.
 */
const registry: Migration[] = [];

export function registerMigrations(migrations: Migration[]): void {
  for (const migration of migrations) {
    if (registry.some((known) => known.name === migration.name)) continue;
    registry.push(migration);
  }
  registry.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function allMigrations(): readonly Migration[] {
  return registry;
}
