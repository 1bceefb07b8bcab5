export {
  type ClientOptions,
  createClient,
  type ErrorCode,
  type GraphQLErrorBody,
  type KeywardClient,
  KeywardError,
  knownCode,
  type RequestOptions,
} from "./client.js";
export { type AuditAction, auditActions } from "./generated/audit-actions.js";
export { type CatalogErrorCode, catalogErrorCodes } from "./generated/error-codes.js";
export * from "./generated/graphql.js";
export { type WebhookEventType, webhookEventTypes } from "./generated/webhook-events.js";
