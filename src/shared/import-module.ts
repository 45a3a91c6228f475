/**
 * import() for the platform's optional and lazily loaded modules. bin/cairn.js runs the bundled CLI
 * through a code-cached vm.Script (cli/compile-cache.ts), where Node 20 cannot run import() itself;
 * the loader hands the script its own import function instead. Everywhere else this is import().
 */
declare const __cairnImport: ((specifier: string) => Promise<unknown>) | undefined;

export function importModule<T>(specifier: string): Promise<T> {
  if (typeof __cairnImport === "function") return __cairnImport(specifier) as Promise<T>;
  return import(specifier) as Promise<T>;
}
