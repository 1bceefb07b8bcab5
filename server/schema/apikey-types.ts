import { builder } from "../builder";

export const ApiKeyTypeEnum = builder.enumType("ApiKeyType", {
  values: {
    SECRET: { description: "sk_…: server-side, full access within its scopes." },
    PUBLISHABLE: { description: "pk_…: browser-safe, read-only, only from allowed origins." },
  } as const,
});

export const EnvironmentEnum = builder.enumType("Environment", {
  description: "Test and live data never meet: a key sees only its own environment.",
  values: { TEST: {}, LIVE: {} } as const,
});

export const ApiKeyStatusEnum = builder.enumType("ApiKeyStatus", {
  values: {
    ACTIVE: { description: "Works." },
    ROLLING: { description: "Replaced by a roll; works until graceUntil." },
    EXPIRED: { description: "Past expiresAt or its roll grace period." },
    REVOKED: { description: "Revoked; never works again." },
  } as const,
});
