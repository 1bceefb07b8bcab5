import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../server/config";

// Environment → config. A bad value must stop the server with one line that names
// the variable (and never prints a secret).

function configError(env: Record<string, string>): ConfigError {
  let caught: unknown;
  try {
    loadConfig(env);
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected ${JSON.stringify(env)} to be refused`).toBeInstanceOf(ConfigError);
  return caught as ConfigError;
}

describe("loadConfig", () => {
  it("has working defaults for an empty environment", () => {
    expect(loadConfig({})).toEqual({
      port: 4000,
      host: "127.0.0.1",
      dataDir: path.resolve("./data"),
      databaseUrl: undefined,
      redisUrl: undefined,
      masterKey: undefined,
      previousMasterKeys: [],
      signup: "open",
      publicUrl: undefined,
      sessionTtlMs: 720 * 3600_000,
      authRateLimit: 30,
      signInAccountLimit: 10,
      corsOrigins: [],
      accessLog: "all",
      githubKeysUrl: "https://api.github.com/meta/public_keys/secret_scanning",
      usageFlushMs: 5000,
      webhooks: { allowPrivate: false, intervalMs: 1000, timeoutMs: 10_000, expiryIntervalMs: 60_000 },
      logLevel: "info",
      production: false,
      keyCacheSize: 20_000,
      metrics: { enabled: false, token: undefined },
      traces: { endpoint: undefined, serviceName: "keyward" },
    });
  });

  it("reads every variable", () => {
    const masterKey = Buffer.alloc(32, 7).toString("base64");
    const config = loadConfig({
      PORT: "8080",
      HOST: "0.0.0.0",
      KEYWARD_DATA_DIR: "/var/lib/keyward",
      DATABASE_URL: "postgres://u:p@db:5432/keyward",
      REDIS_URL: "rediss://cache:6380",
      KEYWARD_MASTER_KEY: masterKey,
      KEYWARD_MASTER_KEY_PREVIOUS: `${Buffer.alloc(32, 8).toString("base64")}, ${Buffer.alloc(32, 9).toString("base64")}`,
      KEYWARD_SIGNUP: "closed",
      KEYWARD_PUBLIC_URL: "https://keys.example.com/",
      KEYWARD_SESSION_TTL_HOURS: "24",
      KEYWARD_AUTH_RATE_LIMIT: "5",
      KEYWARD_SIGNIN_ACCOUNT_LIMIT: "7",
      KEYWARD_CORS_ORIGINS: "https://app.example.com, http://localhost:5173",
      KEYWARD_ACCESS_LOG: "errors",
      KEYWARD_GITHUB_KEYS_URL: "file:///etc/keyward/github-keys.json",
      KEYWARD_WEBHOOK_ALLOW_PRIVATE: "true",
      KEYWARD_WEBHOOK_INTERVAL_MS: "250",
      KEYWARD_WEBHOOK_TIMEOUT_MS: "5000",
      KEYWARD_EXPIRY_INTERVAL_MS: "30000",
      KEYWARD_KEY_CACHE_SIZE: "5000",
      KEYWARD_METRICS: "on",
      KEYWARD_METRICS_TOKEN: "a-scrape-token-of-24-chars",
      OTEL_EXPORTER_OTLP_ENDPOINT: "https://collector.example.com:4318",
      OTEL_SERVICE_NAME: "keyward-eu",
      KEYWARD_USAGE_FLUSH_MS: "1500",
      LOG_LEVEL: "warn",
      NODE_ENV: "production",
    });
    expect(config).toEqual({
      port: 8080,
      host: "0.0.0.0",
      dataDir: "/var/lib/keyward",
      databaseUrl: "postgres://u:p@db:5432/keyward",
      redisUrl: "rediss://cache:6380",
      masterKey,
      previousMasterKeys: [Buffer.alloc(32, 8).toString("base64"), Buffer.alloc(32, 9).toString("base64")],
      signup: "closed",
      publicUrl: "https://keys.example.com",
      sessionTtlMs: 24 * 3600_000,
      authRateLimit: 5,
      signInAccountLimit: 7,
      corsOrigins: ["https://app.example.com", "http://localhost:5173"],
      accessLog: "errors",
      githubKeysUrl: "file:///etc/keyward/github-keys.json",
      usageFlushMs: 1500,
      webhooks: { allowPrivate: true, intervalMs: 250, timeoutMs: 5000, expiryIntervalMs: 30_000 },
      logLevel: "warn",
      production: true,
      keyCacheSize: 5000,
      metrics: { enabled: true, token: "a-scrape-token-of-24-chars" },
      traces: { endpoint: "https://collector.example.com:4318", serviceName: "keyward-eu" },
    });
  });

  it("accepts postgresql:// and redis:// too", () => {
    const config = loadConfig({ DATABASE_URL: "postgresql://localhost/k", REDIS_URL: "redis://localhost:6379" });
    expect(config.databaseUrl).toBe("postgresql://localhost/k");
    expect(config.redisUrl).toBe("redis://localhost:6379");
  });

  it("treats an empty variable as unset", () => {
    const config = loadConfig({ PORT: "", DATABASE_URL: "", KEYWARD_SIGNUP: "", LOG_LEVEL: "" });
    expect(config.port).toBe(4000);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.signup).toBe("open");
    expect(config.logLevel).toBe("info");
  });

  it("only NODE_ENV=production is production", () => {
    expect(loadConfig({ NODE_ENV: "test" }).production).toBe(false);
    expect(loadConfig({ NODE_ENV: "development" }).production).toBe(false);
    expect(loadConfig({ NODE_ENV: "production" }).production).toBe(true);
  });

  const invalid: [variable: string, value: string][] = [
    ["PORT", "abc"],
    ["PORT", "70000"],
    ["PORT", "0"],
    ["PORT", "80.5"],
    ["KEYWARD_SIGNUP", "maybe"],
    ["LOG_LEVEL", "loud"],
    ["KEYWARD_ACCESS_LOG", "sometimes"],
    ["KEYWARD_WEBHOOK_ALLOW_PRIVATE", "yes"],
    ["KEYWARD_WEBHOOK_INTERVAL_MS", "10"],
    ["KEYWARD_WEBHOOK_TIMEOUT_MS", "600000"],
    ["KEYWARD_EXPIRY_INTERVAL_MS", "10"],
    ["KEYWARD_EXPIRY_INTERVAL_MS", "hourly"],
    ["KEYWARD_KEY_CACHE_SIZE", "10"],
    ["KEYWARD_KEY_CACHE_SIZE", "many"],
    ["KEYWARD_USAGE_FLUSH_MS", "50"],
    ["KEYWARD_USAGE_FLUSH_MS", "often"],
    ["DATABASE_URL", "mysql://x"],
    ["DATABASE_URL", "not a url"],
    ["REDIS_URL", "http://x"],
    ["KEYWARD_MASTER_KEY", "short"],
    ["KEYWARD_PUBLIC_URL", "notaurl"],
    ["KEYWARD_SESSION_TTL_HOURS", "0"],
    ["KEYWARD_SESSION_TTL_HOURS", "forever"],
    ["KEYWARD_AUTH_RATE_LIMIT", "0"],
    ["KEYWARD_AUTH_RATE_LIMIT", "lots"],
    ["KEYWARD_SIGNIN_ACCOUNT_LIMIT", "0"],
    ["KEYWARD_SIGNIN_ACCOUNT_LIMIT", "1.5"],
    ["KEYWARD_CORS_ORIGINS", "null"],
    ["KEYWARD_CORS_ORIGINS", "*"],
    ["KEYWARD_CORS_ORIGINS", "https://*.example.com"],
    ["KEYWARD_CORS_ORIGINS", "https://app.example.com/"],
    ["KEYWARD_CORS_ORIGINS", "https://app.example.com/path"],
    ["KEYWARD_CORS_ORIGINS", "https://App.example.com"],
    ["KEYWARD_CORS_ORIGINS", "https://app.example.com:443"],
    ["KEYWARD_CORS_ORIGINS", "app.example.com"],
    ["KEYWARD_CORS_ORIGINS", "ftp://files.example.com"],
    ["KEYWARD_CORS_ORIGINS", "https://user@app.example.com"],
  ];

  it.each(invalid)("refuses %s=%s with one line that names the variable", (variable, value) => {
    const error = configError({ [variable]: value });
    expect(error.name).toBe("ConfigError");
    expect(error.message).not.toMatch(/[\r\n]/);
    expect(error.message).toContain(variable);
    expect(error.message.length).toBeLessThan(200);
  });

  it("names the one bad origin in a KEYWARD_CORS_ORIGINS list", () => {
    const error = configError({ KEYWARD_CORS_ORIGINS: "https://app.example.com,null,https://b.example.com" });
    expect(error.message).toMatch(/^invalid configuration: KEYWARD_CORS_ORIGINS must be comma-separated origins/);
    expect(error.message).toContain('"null" is not one');
  });

  it("reads an empty or blank KEYWARD_CORS_ORIGINS as no origin at all", () => {
    expect(loadConfig({ KEYWARD_CORS_ORIGINS: "" }).corsOrigins).toEqual([]);
    expect(loadConfig({ KEYWARD_CORS_ORIGINS: " , " }).corsOrigins).toEqual([]);
  });

  it("names the bad variable even when others are fine", () => {
    const error = configError({ PORT: "8080", LOG_LEVEL: "loud", KEYWARD_SIGNUP: "open" });
    expect(error.message).toContain("LOG_LEVEL");
    expect(error.message).not.toContain("PORT");
  });

  it("does not echo a DATABASE_URL, which may hold a password", () => {
    const value = "mysql://admin:hunter2-s3cret@db.internal:3306/keyward";
    const error = configError({ DATABASE_URL: value });
    expect(error.message).toContain("DATABASE_URL");
    expect(error.message).not.toContain(value);
    expect(error.message).not.toContain("hunter2-s3cret");
    expect(error.message).not.toContain("db.internal");
  });

  it("does not echo a REDIS_URL, which may hold a password as well", () => {
    const value = "http://:redis-s3cret-pw@cache.internal:6379";
    const error = configError({ REDIS_URL: value });
    expect(error.message).toContain("REDIS_URL");
    expect(error.message).not.toContain("redis-s3cret-pw");
  });

  it("does not echo a KEYWARD_MASTER_KEY", () => {
    const value = "tooShortButSecretValue";
    const error = configError({ KEYWARD_MASTER_KEY: value });
    expect(error.message).toContain("KEYWARD_MASTER_KEY");
    expect(error.message).not.toContain(value);
  });

  it("reads the metrics and tracing variables", () => {
    const config = loadConfig({
      KEYWARD_METRICS: "on",
      KEYWARD_METRICS_TOKEN: "a-scrape-token-of-24-chars",
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/",
      OTEL_SERVICE_NAME: "keyward-eu",
    });
    expect(config.metrics).toEqual({ enabled: true, token: "a-scrape-token-of-24-chars" });
    expect(config.traces).toEqual({ endpoint: "http://collector:4318", serviceName: "keyward-eu" });
    expect(configError({ KEYWARD_METRICS: "yes" }).message).toContain("KEYWARD_METRICS must be on or off");
    expect(configError({ OTEL_EXPORTER_OTLP_ENDPOINT: "grpc://collector:4317" }).message).toContain(
      "OTEL_EXPORTER_OTLP_ENDPOINT",
    );
  });

  it("refuses a guessable KEYWARD_METRICS_TOKEN without echoing it", () => {
    for (const value of ["short-secret", "has a space inside it"]) {
      const error = configError({ KEYWARD_METRICS_TOKEN: value });
      expect(error.message).toContain("KEYWARD_METRICS_TOKEN");
      expect(error.message).not.toContain(value);
    }
  });
});
