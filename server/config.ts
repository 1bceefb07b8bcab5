import path from "node:path";
import { z } from "zod";

// Environment → typed config. Any bad value stops the server with one line that
// names the variable, before anything is opened.

const port = z.coerce
  .number({ message: "must be a number" })
  .int("must be an integer")
  .min(1, "must be between 1 and 65535")
  .max(65535, "must be between 1 and 65535");

const postgresUrl = z.string().refine((value) => {
  try {
    return ["postgres:", "postgresql:"].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}, "must be a postgres:// or postgresql:// URL");

const redisUrl = z.string().refine((value) => {
  try {
    return ["redis:", "rediss:"].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}, "must be a redis:// or rediss:// URL");

/** An origin exactly as a browser sends it: scheme, host and any non-default port; nothing else. */
function isExactOrigin(entry: string): boolean {
  if (entry.includes("*")) return false;
  try {
    const url = new URL(entry);
    return (url.protocol === "https:" || url.protocol === "http:") && url.origin === entry;
  } catch {
    return false;
  }
}

const corsOrigins = z.string().transform((value, ctx) => {
  const entries = value
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  const bad = entries.find((entry) => !isExactOrigin(entry));
  if (bad !== undefined) {
    ctx.addIssue({
      code: "custom",
      message: `must be comma-separated origins like https://app.example.com (no path, wildcard or null): ${JSON.stringify(bad)} is not one`,
    });
    return z.NEVER;
  }
  return entries;
});

const schema = z.object({
  PORT: port.default(4000),
  HOST: z.string().min(1, "must not be empty").default("127.0.0.1"),
  KEYWARD_DATA_DIR: z.string().min(1, "must not be empty").default("./data"),
  DATABASE_URL: postgresUrl.optional(),
  REDIS_URL: redisUrl.optional(),
  KEYWARD_MASTER_KEY: z
    .string()
    .regex(/^[A-Za-z0-9+/]{43}=$/, "must be 32 bytes in base64 (44 characters)")
    .optional(),
  // Keys that still open what they sealed during a master key rotation (rotate-master-key).
  KEYWARD_MASTER_KEY_PREVIOUS: z
    .string()
    .transform((value) =>
      value
        .split(",")
        .map((key) => key.trim())
        .filter(Boolean),
    )
    .pipe(
      z.array(
        z.string().regex(/^[A-Za-z0-9+/]{43}=$/, "must be 32-byte keys in base64 (44 characters), comma-separated"),
      ),
    )
    .optional(),
  KEYWARD_SIGNUP: z.enum(["open", "closed"], { message: "must be open or closed" }).default("open"),
  KEYWARD_PUBLIC_URL: z.url({ message: "must be an absolute URL such as https://keys.example.com" }).optional(),
  KEYWARD_SESSION_TTL_HOURS: z.coerce
    .number({ message: "must be a number" })
    .int("must be an integer")
    .min(1, "must be at least 1")
    .max(24 * 365, "must be at most 8760")
    .default(24 * 30),
  KEYWARD_AUTH_RATE_LIMIT: z.coerce
    .number({ message: "must be a number" })
    .int("must be an integer")
    .min(1, "must be at least 1")
    .max(1_000_000, "must be at most 1000000")
    .default(30),
  KEYWARD_SIGNIN_ACCOUNT_LIMIT: z.coerce
    .number({ message: "must be a number" })
    .int("must be an integer")
    .min(1, "must be at least 1")
    .max(1_000_000, "must be at most 1000000")
    .default(10),
  KEYWARD_CORS_ORIGINS: corsOrigins.optional(),
  // GitHub's secret scanning public keys; file: URLs and local paths serve tests and offline installs.
  KEYWARD_GITHUB_KEYS_URL: z
    .string()
    .min(1, "must not be empty")
    .default("https://api.github.com/meta/public_keys/secret_scanning"),
  KEYWARD_ACCESS_LOG: z.enum(["all", "errors", "off"], { message: "must be one of all, errors, off" }).default("all"),
  KEYWARD_EXPIRY_INTERVAL_MS: z.coerce
    .number({ message: "must be a number" })
    .int("must be an integer")
    .min(50, "must be at least 50")
    .max(3_600_000, "must be at most 3600000")
    .default(60_000),
  KEYWARD_WEBHOOK_ALLOW_PRIVATE: z.enum(["true", "false"], { message: "must be true or false" }).default("false"),
  KEYWARD_WEBHOOK_INTERVAL_MS: z.coerce
    .number({ message: "must be a number" })
    .int("must be an integer")
    .min(50, "must be at least 50")
    .max(3_600_000, "must be at most 3600000")
    .default(1000),
  KEYWARD_WEBHOOK_TIMEOUT_MS: z.coerce
    .number({ message: "must be a number" })
    .int("must be an integer")
    .min(100, "must be at least 100")
    .max(60_000, "must be at most 60000")
    .default(10_000),
  KEYWARD_KEY_CACHE_SIZE: z.coerce
    .number({ message: "must be a number" })
    .int("must be an integer")
    .min(100, "must be at least 100")
    .max(10_000_000, "must be at most 10000000")
    .default(20_000),
  KEYWARD_METRICS: z.enum(["on", "off"], { message: "must be on or off" }).default("off"),
  // A scraper's shared secret: long enough that guessing it over the network is hopeless.
  KEYWARD_METRICS_TOKEN: z
    .string()
    .regex(/^[\x21-\x7e]{16,512}$/, "must be 16 to 512 printable characters without spaces")
    .optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z
    .url({ message: "must be an absolute URL such as http://collector:4318" })
    .refine((value) => /^https?:$/.test(new URL(value).protocol), "must be an http:// or https:// URL")
    .optional(),
  OTEL_SERVICE_NAME: z.string().min(1, "must not be empty").default("keyward"),
  KEYWARD_USAGE_FLUSH_MS: z.coerce
    .number({ message: "must be a number" })
    .int("must be an integer")
    .min(100, "must be at least 100")
    .max(60_000, "must be at most 60000")
    .default(5_000),
  LOG_LEVEL: z
    .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], {
      message: "must be one of fatal, error, warn, info, debug, trace, silent",
    })
    .default("info"),
  NODE_ENV: z.string().default("development"),
});

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  masterKey: string | undefined;
  /** Older master keys that still open (never seal), during a rotation. */
  previousMasterKeys: string[];
  signup: "open" | "closed";
  publicUrl: string | undefined;
  sessionTtlMs: number;
  /** signIn/signUp attempts allowed per IP per 10 minutes. */
  authRateLimit: number;
  /** Failed signIn attempts allowed per account (email, known or not) per 10 minutes. */
  signInAccountLimit: number;
  /** Browser origins allowed to read answers (CORS); empty: none. */
  corsOrigins: string[];
  /** Which requests get an access-log line: all, errors (status 400 and up) or off. */
  accessLog: "all" | "errors" | "off";
  /** Where GitHub's secret scanning public keys are read (https:, file: or a local path). */
  githubKeysUrl: string;
  /** How often collected key usage is written to the database: at most this much is lost to a crash. */
  usageFlushMs: number;
  logLevel: z.infer<typeof schema>["LOG_LEVEL"];
  production: boolean;
  /** How many keys (and as many deployed keys) each instance keeps in memory for verification. */
  keyCacheSize: number;
  /** GET /metrics (Prometheus text): served only when enabled; the token, when set, is required as a Bearer. */
  metrics: { enabled: boolean; token: string | undefined };
  /** OpenTelemetry traces: exported over OTLP/HTTP when an endpoint is set, nothing loaded otherwise. */
  traces: { endpoint: string | undefined; serviceName: string };
  webhooks: {
    /** Let webhook URLs reach loopback and private networks (tests, closed networks). */
    allowPrivate: boolean;
    /** How often the delivery worker looks for due deliveries. */
    intervalMs: number;
    /** How long one delivery attempt may take. */
    timeoutMs: number;
    /** How often the expiry job looks for keys to alert about (key.expiring, key.expired). */
    expiryIntervalMs: number;
  };
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // An empty variable means "not set", as in most shells' `VAR= cmd`.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ""));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? "environment");
    const got = env[name];
    // Secrets are never echoed; a list's message already quotes the entry at fault.
    const shown = [
      "KEYWARD_MASTER_KEY",
      "KEYWARD_MASTER_KEY_PREVIOUS",
      "DATABASE_URL",
      "REDIS_URL",
      "KEYWARD_CORS_ORIGINS",
      "KEYWARD_METRICS_TOKEN",
      "OTEL_EXPORTER_OTLP_ENDPOINT",
    ].includes(name)
      ? ""
      : ` (got ${JSON.stringify(got)})`;
    throw new ConfigError(`invalid configuration: ${name} ${issue?.message ?? "is invalid"}${shown}`);
  }
  const c = parsed.data;
  return {
    port: c.PORT,
    host: c.HOST,
    dataDir: path.resolve(c.KEYWARD_DATA_DIR),
    databaseUrl: c.DATABASE_URL,
    redisUrl: c.REDIS_URL,
    masterKey: c.KEYWARD_MASTER_KEY,
    previousMasterKeys: c.KEYWARD_MASTER_KEY_PREVIOUS ?? [],
    signup: c.KEYWARD_SIGNUP,
    publicUrl: c.KEYWARD_PUBLIC_URL?.replace(/\/+$/, ""),
    sessionTtlMs: c.KEYWARD_SESSION_TTL_HOURS * 3600_000,
    authRateLimit: c.KEYWARD_AUTH_RATE_LIMIT,
    signInAccountLimit: c.KEYWARD_SIGNIN_ACCOUNT_LIMIT,
    corsOrigins: c.KEYWARD_CORS_ORIGINS ?? [],
    accessLog: c.KEYWARD_ACCESS_LOG,
    githubKeysUrl: c.KEYWARD_GITHUB_KEYS_URL,
    usageFlushMs: c.KEYWARD_USAGE_FLUSH_MS,
    logLevel: c.LOG_LEVEL,
    production: c.NODE_ENV === "production",
    keyCacheSize: c.KEYWARD_KEY_CACHE_SIZE,
    metrics: { enabled: c.KEYWARD_METRICS === "on", token: c.KEYWARD_METRICS_TOKEN },
    traces: { endpoint: c.OTEL_EXPORTER_OTLP_ENDPOINT?.replace(/\/+$/, ""), serviceName: c.OTEL_SERVICE_NAME },
    webhooks: {
      allowPrivate: c.KEYWARD_WEBHOOK_ALLOW_PRIVATE === "true",
      intervalMs: c.KEYWARD_WEBHOOK_INTERVAL_MS,
      timeoutMs: c.KEYWARD_WEBHOOK_TIMEOUT_MS,
      expiryIntervalMs: c.KEYWARD_EXPIRY_INTERVAL_MS,
    },
  };
}
