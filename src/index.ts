/**
 * What apps import as "cairn": declarations, configuration and types. Everything here also runs
 * inside function instances, so it never imports host code.
 */
export { http, mount } from "./sdk/declarations.js";
export type {
  Declaration,
  FetchApp,
  FetchHandler,
  HttpDeclaration,
  HttpHandler,
  HttpMethod,
  MountDeclaration,
  MountOptions,
} from "./sdk/declarations.js";
export type { Context, FetchContext, Logger, LogFields, RouteParams } from "./sdk/context.js";
export { defineConfig } from "./sdk/config.js";
export type { AppConfig } from "./sdk/config.js";
export type { FunctionOptions } from "./sdk/options.js";
export { CairnError, isCairnError } from "./sdk/errors.js";
export type { CairnErrorOptions } from "./sdk/errors.js";
export type { Duration } from "./shared/duration.js";
