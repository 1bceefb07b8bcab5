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
    id: t.exposeID("id"),
    environment: t.field({ type: EnvironmentEnum, resolve: (e) => e.environment }),
    url: t.exposeString("url"),
    events: t.exposeStringList("events", { description: `Subscribed event types, of: ${EVENTS}.` }),
    description: t.exposeString("description"),
    enabled: t.exposeBoolean("enabled"),
    previousSecretExpiresAt: t.expose("previousSecretUntil", {
      type: "DateTime",
      nullable: true,
      description: "After rotateWebhookSecret: until then each delivery is signed with the old secret too.",
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

const CreatedWebhookEndpointRef = builder.objectRef<CreatedEndpoint>("CreatedWebhookEndpoint").implement({
  fields: (t) => ({
    endpoint: t.field({ type: WebhookEndpointRef, resolve: (c) => c.endpoint }),
    secret: t.exposeString("secret", {
      description: "The signing secret (whsec_…), shown this once: give it to your Standard Webhooks verifier.",
    }),
  }),
});

const WebhookAttemptRef = builder.objectRef<WebhookAttempt>("WebhookAttempt").implement({
  fields: (t) => ({
    statusCode: t.exposeInt("statusCode", { nullable: true, description: "null: no HTTP answer (see response)." }),
    latencyMs: t.exposeInt("latencyMs"),
    response: t.exposeString("responseBody", { description: "The first 1 KiB of the answer, or why there was none." }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

type DeliveryRow = WebhookDelivery & { event: WebhookEvent; attempts: WebhookAttempt[] };
const WebhookDeliveryStatusEnum = builder.enumType("WebhookDeliveryStatus", {
  values: ["PENDING", "SUCCEEDED", "FAILED"] as const,
});

const WebhookDeliveryRef = builder.objectRef<DeliveryRow>("WebhookDelivery").implement({
  fields: (t) => ({
    id: t.exposeID("id"),
    eventId: t.exposeID("eventId", { description: "The webhook-id header: the same on every attempt." }),
    eventType: t.string({ resolve: (d) => d.event.type }),
    payload: t.field({ type: "JSON", resolve: (d) => d.event.payload }),
    status: t.field({ type: WebhookDeliveryStatusEnum, resolve: (d) => d.status }),
    attemptCount: t.exposeInt("attemptCount"),
    nextAttemptAt: t.expose("nextAttemptAt", { type: "DateTime", nullable: true }),
    attempts: t.field({ type: [WebhookAttemptRef], resolve: (d) => d.attempts }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

const CreateInput = builder.inputType("CreateWebhookEndpointInput", {
  fields: (t) => ({
    workspaceId: t.id({ required: true }),
    environment: t.field({ type: EnvironmentEnum, required: true }),
    url: t.string({
      required: true,
      description: "https in production; never a private, loopback or metadata address.",
    }),
    events: t.stringList({ required: true, description: `Of: ${EVENTS}.` }),
    description: t.string(),
    enabled: t.boolean({ description: "Default true." }),
  }),
});
const UpdateInput = builder.inputType("UpdateWebhookEndpointInput", {
  fields: (t) => ({
    id: t.id({ required: true }),
    url: t.string(),
    events: t.stringList(),
    description: t.string(),
    enabled: t.boolean(),
  }),
});
const IdInput = builder.inputType("WebhookIdInput", { fields: (t) => ({ id: t.id({ required: true }) }) });

builder.queryFields((t) => ({
  webhookEndpoints: t.field({
    type: [WebhookEndpointRef],
    description: `A workspace's webhook endpoints of one environment (at most ${MAX_ENDPOINTS} in all). Needs webhooks:read.`,
    args: { workspaceId: t.arg.id({ required: true }), environment: t.arg({ type: EnvironmentEnum, required: true }) },
    resolve: async (_root, args, ctx) => {
      const caller = unwrap(await requireWorkspace(ctx, { id: String(args.workspaceId) }, "webhooks:read"));
      unwrap(checkEnvironment(caller, args.environment));
      return listEndpoints(ctx.db, caller.workspace.id, args.environment);
    },
  }),
  webhookDeliveries: t.field({
    type: [WebhookDeliveryRef],
    description: `An endpoint's deliveries, newest first, with every attempt (at most ${MAX_DELIVERIES_LISTED}). Needs webhooks:read.`,
    args: { endpointId: t.arg.id({ required: true }), first: t.arg.int({ defaultValue: 50 }) },
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
    args: { input: t.arg({ type: CreateInput, required: true }) },
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
    args: { input: t.arg({ type: UpdateInput, required: true }) },
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
    args: { input: t.arg({ type: IdInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { caller, endpoint } = unwrap(await requireWebhookEndpoint(ctx, String(input.id), "webhooks:write"));
      await deleteEndpoint(ctx.db, caller.actor, endpoint, ctx.now);
      return true;
    },
  }),
  rotateWebhookSecret: t.field({
    type: CreatedWebhookEndpointRef,
    description: "A new signing secret, shown once; the old one keeps signing beside it for 7 days.",
    args: { input: t.arg({ type: IdInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { caller, endpoint } = unwrap(await requireWebhookEndpoint(ctx, String(input.id), "webhooks:write"));
      return rotateSecret(ctx.db, caller.actor, endpoint, { box: ctx.box, now: ctx.now });
    },
  }),
  sendTestWebhook: t.field({
    type: WebhookDeliveryRef,
    description: "Queue a `ping` event to this endpoint alone.",
    args: { input: t.arg({ type: IdInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { caller, endpoint } = unwrap(await requireWebhookEndpoint(ctx, String(input.id), "webhooks:write"));
      return getDelivery(ctx.db, await sendTestEvent(ctx.db, caller.actor, endpoint, ctx.now));
    },
  }),
  redeliverWebhook: t.field({
    type: WebhookDeliveryRef,
    description: "Queue a delivery again, with a fresh retry schedule.",
    args: { input: t.arg({ type: IdInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { caller, delivery, endpoint } = unwrap(
        await requireWebhookDelivery(ctx, String(input.id), "webhooks:write"),
      );
      return redeliver(ctx.db, caller.actor, delivery, endpoint.workspaceId, ctx.now);
    },
  }),
}));
