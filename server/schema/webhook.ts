import { requireWorkspace } from "../auth/access";
import { checkEnvironment, requireWebhookDelivery, requireWebhookEndpoint } from "../auth/webhook-access";
import { builder } from "../builder";
import type { Context } from "../context";
import type { WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent } from "../generated/prisma/client";
import { getDelivery, listDeliveries, MAX_DELIVERIES_LISTED, redeliver } from "../webhooks/deliveries";
import {
  type CreatedEndpoint,
  createEndpoint,
  deleteEndpoint,
  listEndpoints,
  MAX_ENDPOINTS,
  rotateSecret,
  sendTestEvent,
  updateEndpoint,
} from "../webhooks/endpoints";
import { WEBHOOK_EVENTS } from "../webhooks/events";
import { EnvironmentEnum } from "./apikey-types";
import { unwrap } from "./result";

const policy = (ctx: Context) => ({
  production: ctx.config.production,
  allowPrivate: ctx.config.webhooks.allowPrivate,
});
const EVENTS = WEBHOOK_EVENTS.join(", ");

const WebhookEndpointRef = builder.objectRef<WebhookEndpoint>("WebhookEndpoint").implement({
  description: "Where a workspace's events of one environment are POSTed, signed the Standard Webhooks way.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "The endpoint's id (webhookDeliveries, updateWebhookEndpoint…)." }),
    environment: t.field({
      type: EnvironmentEnum,
      description: "The environment whose key events it receives (workspace-wide events reach both).",
      resolve: (e) => e.environment,
    }),
    url: t.exposeString("url", { description: "Where deliveries are POSTed (https in production)." }),
    events: t.exposeStringList("events", { description: `Subscribed event types, of: ${EVENTS}.` }),
    description: t.exposeString("description", { description: "A note for people: what listens here." }),
    enabled: t.exposeBoolean("enabled", {
      description: "false: it gets no new events (switched off by hand, or by the server after 3 days of failures).",
    }),
    previousSecretExpiresAt: t.expose("previousSecretUntil", {
      type: "DateTime",
      nullable: true,
      description: "After rotateWebhookSecret: until then each delivery is signed with the old secret too.",
    }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When it was added." }),
  }),
});

const CreatedWebhookEndpointRef = builder.objectRef<CreatedEndpoint>("CreatedWebhookEndpoint").implement({
  description: "An endpoint with its signing secret, which is shown only here.",
  fields: (t) => ({
    endpoint: t.field({ type: WebhookEndpointRef, description: "The endpoint.", resolve: (c) => c.endpoint }),
    secret: t.exposeString("secret", {
      description: "The signing secret (whsec_…), shown this once: give it to your Standard Webhooks verifier.",
    }),
  }),
});

const WebhookAttemptRef = builder.objectRef<WebhookAttempt>("WebhookAttempt").implement({
  description: "One try at sending a delivery: any 2xx status is a success.",
  fields: (t) => ({
    statusCode: t.exposeInt("statusCode", { nullable: true, description: "null: no HTTP answer (see response)." }),
    latencyMs: t.exposeInt("latencyMs", { description: "Milliseconds from sending to the answer (or giving up)." }),
    response: t.exposeString("responseBody", { description: "The first 1 KiB of the answer, or why there was none." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the attempt was made." }),
  }),
});

type DeliveryRow = WebhookDelivery & { event: WebhookEvent; attempts: WebhookAttempt[] };
const WebhookDeliveryStatusEnum = builder.enumType("WebhookDeliveryStatus", {
  description: "Where a delivery stands.",
  values: {
    PENDING: { description: "Not yet answered with a 2xx: waiting for its first attempt or a retry (nextAttemptAt)." },
    SUCCEEDED: { description: "An attempt was answered with a 2xx." },
    FAILED: {
      description: "Given up: every attempt failed, or the endpoint was disabled. redeliverWebhook retries it.",
    },
  } as const,
});

const WebhookDeliveryRef = builder.objectRef<DeliveryRow>("WebhookDelivery").implement({
  description: "One event on its way to one endpoint, with every attempt to send it.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "The delivery's id (redeliverWebhook)." }),
    eventId: t.exposeID("eventId", { description: "The webhook-id header: the same on every attempt." }),
    eventType: t.string({ description: `The event's type, one of: ${EVENTS}.`, resolve: (d) => d.event.type }),
    payload: t.field({
      type: "JSON",
      description: "The body sent: {type, timestamp, data}, with ids and never a secret.",
      resolve: (d) => d.event.payload,
    }),
    status: t.field({ type: WebhookDeliveryStatusEnum, description: "Where it stands.", resolve: (d) => d.status }),
    attemptCount: t.exposeInt("attemptCount", { description: "Attempts so far (at most 8, over about a day)." }),
    nextAttemptAt: t.expose("nextAttemptAt", {
      type: "DateTime",
      nullable: true,
      description: "When the next attempt is due; null once it succeeded or failed for good.",
    }),
    attempts: t.field({
      type: [WebhookAttemptRef],
      description: "Every attempt, oldest first.",
      resolve: (d) => d.attempts,
    }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the event was queued for this endpoint." }),
  }),
});

const CreateInput = builder.inputType("CreateWebhookEndpointInput", {
  description: "A new webhook endpoint.",
  fields: (t) => ({
    workspaceId: t.id({ required: true, description: "The workspace whose events it receives." }),
    environment: t.field({
      type: EnvironmentEnum,
      required: true,
      description: "The environment whose key events it receives; a key may only add endpoints of its own.",
    }),
    url: t.string({
      required: true,
      description: "https in production; never a private, loopback or metadata address.",
    }),
    events: t.stringList({ required: true, description: `Of: ${EVENTS}.` }),
    description: t.string({ description: "A note for people: what listens here (default empty)." }),
    enabled: t.boolean({ description: "Default true." }),
  }),
});
const UpdateInput = builder.inputType("UpdateWebhookEndpointInput", {
  description: "What to change on an endpoint; fields left out stay as they are.",
  fields: (t) => ({
    id: t.id({ required: true, description: "The endpoint." }),
    url: t.string({ description: "A new URL, checked as when the endpoint was added." }),
    events: t.stringList({ description: `The new subscription (replaces the old), of: ${EVENTS}.` }),
    description: t.string({ description: "A new note." }),
    enabled: t.boolean({ description: "false stops new events; true turns a disabled endpoint back on." }),
  }),
});
const IdInput = builder.inputType("WebhookIdInput", {
  description: "One webhook endpoint or delivery, by id.",
  fields: (t) => ({
    id: t.id({ required: true, description: "The endpoint's (or, for redeliverWebhook, the delivery's) id." }),
  }),
});

builder.queryFields((t) => ({
  webhookEndpoints: t.field({
    type: [WebhookEndpointRef],
    description: `A workspace's webhook endpoints of one environment (at most ${MAX_ENDPOINTS} in all). Needs webhooks:read.`,
    args: {
      workspaceId: t.arg.id({ required: true, description: "The workspace." }),
      environment: t.arg({ type: EnvironmentEnum, required: true, description: "Its endpoints of this environment." }),
    },
    resolve: async (_root, args, ctx) => {
      const caller = unwrap(await requireWorkspace(ctx, { id: String(args.workspaceId) }, "webhooks:read"));
      unwrap(checkEnvironment(caller, args.environment));
      return listEndpoints(ctx.db, caller.workspace.id, args.environment);
    },
  }),
  webhookDeliveries: t.field({
    type: [WebhookDeliveryRef],
    description: `An endpoint's deliveries, newest first, with every attempt (at most ${MAX_DELIVERIES_LISTED}). Needs webhooks:read.`,
    args: {
      endpointId: t.arg.id({ required: true, description: "The endpoint." }),
      first: t.arg.int({ defaultValue: 50, description: `How many, newest first (1 to ${MAX_DELIVERIES_LISTED}).` }),
    },
    resolve: async (_root, args, ctx) => {
      const { endpoint } = unwrap(await requireWebhookEndpoint(ctx, String(args.endpointId), "webhooks:read"));
      return listDeliveries(ctx.db, endpoint.id, args.first ?? 50);
    },
  }),
}));

builder.mutationFields((t) => ({
  createWebhookEndpoint: t.field({
    type: CreatedWebhookEndpointRef,
    description: "Add a webhook endpoint (OWNER, ADMIN or webhooks:write). Its signing secret is shown once.",
    args: { input: t.arg({ type: CreateInput, required: true, description: "The endpoint to add." }) },
    resolve: async (_root, { input }, ctx) => {
      const caller = unwrap(await requireWorkspace(ctx, { id: String(input.workspaceId) }, "webhooks:write"));
      unwrap(checkEnvironment(caller, input.environment));
      const { workspaceId: _w, environment, ...fields } = input;
      const target = { workspaceId: caller.workspace.id, environment };
      return unwrap(
        await createEndpoint(ctx.db, caller.actor, target, fields, { box: ctx.box, policy: policy(ctx), now: ctx.now }),
      );
    },
  }),
  updateWebhookEndpoint: t.field({
    type: WebhookEndpointRef,
    description: "Change an endpoint's URL, events, description or enabled switch.",
    args: { input: t.arg({ type: UpdateInput, required: true, description: "The endpoint and what to change." }) },
    resolve: async (_root, { input }, ctx) => {
      const { caller, endpoint } = unwrap(await requireWebhookEndpoint(ctx, String(input.id), "webhooks:write"));
      const { id: _id, ...fields } = input;
      return unwrap(
        await updateEndpoint(ctx.db, caller.actor, endpoint, fields, { policy: policy(ctx), now: ctx.now }),
      );
    },
  }),
  deleteWebhookEndpoint: t.field({
    type: "Boolean",
    description: "Delete an endpoint with its pending deliveries.",
    args: { input: t.arg({ type: IdInput, required: true, description: "The endpoint (or delivery)." }) },
    resolve: async (_root, { input }, ctx) => {
      const { caller, endpoint } = unwrap(await requireWebhookEndpoint(ctx, String(input.id), "webhooks:write"));
      await deleteEndpoint(ctx.db, caller.actor, endpoint, ctx.now);
      return true;
    },
  }),
  rotateWebhookSecret: t.field({
    type: CreatedWebhookEndpointRef,
    description: "A new signing secret, shown once; the old one keeps signing beside it for 7 days.",
    args: { input: t.arg({ type: IdInput, required: true, description: "The endpoint (or delivery)." }) },
    resolve: async (_root, { input }, ctx) => {
      const { caller, endpoint } = unwrap(await requireWebhookEndpoint(ctx, String(input.id), "webhooks:write"));
      return rotateSecret(ctx.db, caller.actor, endpoint, { box: ctx.box, now: ctx.now });
    },
  }),
  sendTestWebhook: t.field({
    type: WebhookDeliveryRef,
    description: "Queue a `ping` event to this endpoint alone.",
    args: { input: t.arg({ type: IdInput, required: true, description: "The endpoint (or delivery)." }) },
    resolve: async (_root, { input }, ctx) => {
      const { caller, endpoint } = unwrap(await requireWebhookEndpoint(ctx, String(input.id), "webhooks:write"));
      return getDelivery(ctx.db, await sendTestEvent(ctx.db, caller.actor, endpoint, ctx.now));
    },
  }),
  redeliverWebhook: t.field({
    type: WebhookDeliveryRef,
    description: "Queue a delivery again, with a fresh retry schedule.",
    args: { input: t.arg({ type: IdInput, required: true, description: "The endpoint (or delivery)." }) },
    resolve: async (_root, { input }, ctx) => {
      const { caller, delivery, endpoint } = unwrap(
        await requireWebhookDelivery(ctx, String(input.id), "webhooks:write"),
      );
      return redeliver(ctx.db, caller.actor, delivery, endpoint.workspaceId, ctx.now);
    },
  }),
}));
