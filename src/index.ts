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
export { defineConfig, queue, table } from "./sdk/config.js";
export { on } from "./sdk/triggers.js";
export { NonRetryableError, workflow } from "./sdk/workflow.js";
export type { WorkflowDeclaration, WorkflowHandler } from "./sdk/workflow.js";
export type {
  RetryPolicy,
  StartOptions,
  StepContext,
  StepOptions,
  StepRecord,
  StepTable,
  StepTables,
  WorkflowContext,
  WorkflowRun,
  WorkflowStatus,
  WorkflowSummary,
  WorkflowsClient,
} from "./workflows/types.js";
export type {
  BlobEventPayload,
  EventHandler,
  EventOptions,
  KeyFilter,
  QueueHandler,
  ScheduleHandler,
  ScheduleOptions,
  TableChangePayload,
} from "./sdk/triggers.js";
export type {
  EventMessage,
  Queue,
  QueueBatch,
  QueueDefinition,
  QueueMessage,
  QueuesOf,
  RetryOptions,
  ScheduleTick,
  SendOptions,
  SendResult,
} from "./events/types.js";
export type { AppConfig } from "./sdk/config.js";
export type { FunctionOptions } from "./sdk/options.js";
export { CairnError, isCairnError } from "./sdk/errors.js";
export type { CairnErrorOptions } from "./sdk/errors.js";
export type { Duration } from "./shared/duration.js";
export type {
  Cache,
  CacheConfig,
  CacheLock,
  CacheLockOptions,
  CacheSetOptions,
  RateLimitOptions,
  RateLimitResult,
} from "./cache/types.js";
export type {
  BlobBody,
  BlobConditions,
  BlobDeleteOptions,
  BlobGetOptions,
  BlobInfo,
  BlobList,
  BlobListOptions,
  BlobObject,
  BlobPutOptions,
  BlobRange,
  Blobs,
  BlobsConfig,
  PresignOptions,
} from "./blobs/types.js";
export type { Register, RegisteredConfig } from "./sdk/register.js";
export { hashPassword, verifyPassword } from "./sdk/passwords.js";
export type { PasswordHashOptions } from "./sdk/passwords.js";
export type {
  CookieOptions,
  CreatedSession,
  CreateSessionOptions,
  RenewedSession,
  RenewOptions,
  Session,
  SessionData,
  SessionInfo,
  Sessions,
  SessionsConfig,
  SignedState,
  SignedStateOptions,
  TokenSource,
  VerifyOptions,
} from "./sessions/types.js";
export type {
  Conditions,
  Item,
  ItemMeta,
  KeyValue,
  OutboxEvent,
  Page,
  QueryOptions,
  ScanOptions,
  SortCondition,
  Stored,
  Table,
  TableDefinition,
  TablesApi,
  TablesOf,
  TransactionOp,
  TransactionOptions,
  TransactionResult,
  UpdateChanges,
} from "./tables/types.js";
