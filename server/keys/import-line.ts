import { z } from "zod";
import { type Failure, fail, ok, type Result } from "../errors";
import { validate } from "../validation";
import { hashKey, type KeyEnvironment, type KeyType, keyPrefix, parseKey } from "./format";
import { checkShape } from "./grants";
import { ipsSchema, keyName, metadataSchema, originsSchema, rateLimitSchema, scopesSchema } from "./input";
import { ALL_SCOPES } from "./scopes";

// One line of an `import-keys` file (JSON lines), checked on its own: no database.
// import.ts checks what needs the database (workspace, services, existing hashes).
// The raw key, when a line carries one, is hashed here and goes no further.

/** The fixed beginning every key of one kind shares (`acme_`, `sk_live_`). */
const PREFIX = /^[A-Za-z0-9][A-Za-z0-9_.-]{1,39}$/;
/** Keyward's own session and platform tokens are routed by these before any key lookup. */
const RESERVED = ["kws_", "kwp_"];
/** What a list may show beyond the prefix: enough to tell keys apart, too little to matter. */
const START_EXTRA = 8;
const HEX = /^[0-9a-fA-F]{64}$/;
const BASE64 = /^[A-Za-z0-9+/_-]{43}=?$/;

const lower = <T extends string>(values: readonly [T, ...T[]], message: string) =>
  z
    .string()
    .transform((value) => value.toLowerCase())
    .pipe(z.enum(values, { message }));

const lineSchema = z.strictObject({
  hash: z.string().optional(),
  key: z.string().min(20, "must be at least 20 characters").max(512, "must be at most 512 characters").optional(),
  prefix: z.string().regex(PREFIX, "must be 2 to 40 letters, digits, _, . or -, such as acme_ or sk_live_"),
  start: z.string().max(48, "must be at most 48 characters").optional(),
  format: z.enum(["keyward", "foreign"], { message: "must be keyward or foreign" }).optional(),
  workspace: z.string().min(1, "must name a workspace by slug or id").max(64, "must be at most 64 characters"),
  environment: lower(["test", "live"], "must be test or live"),
  type: lower(["secret", "publishable"], "must be secret or publishable"),
  name: keyName,
  scopes: scopesSchema.default([]),
  allowedOrigins: originsSchema.default([]),
  allowedIps: ipsSchema.default([]),
  service: z.string().max(40, "must be at most 40 characters").nullish(),
  expiresAt: z.iso.datetime({ offset: true, message: "must be an ISO 8601 time, e.g. 2027-01-01T00:00:00Z" }).nullish(),
  rateLimit: rateLimitSchema.nullish(),
  metadata: metadataSchema.nullish(),
});

/** What a workspace export (server/workspaces/export.ts) says it is; import-keys reads its `keys`. */
export const EXPORT_FORMAT = "keyward-workspace-export";

export interface ImportLine {
  /** Where it is, for errors: `line 12`, or `key 12` of an export. */
  at: string;
  hash: string;
  /** Lacks Keyward's format or checksum: its prefix must be registered for lookups. */
  foreign: boolean;
  prefix: string;
  start: string;
  workspace: string;
  environment: KeyEnvironment;
  type: KeyType;
  name: string;
  scopes: string[];
  allowedOrigins: string[];
  allowedIps: string[];
  service: string | null;
  expiresAt: Date | null;
  rateLimit: { limit: number; windowSeconds: number } | null;
  metadata: Record<string, unknown>;
}

/** A failure naming the line: `line 12: scopes: unknown scope …`. */
export function lineFailure(at: string, failure: Failure): { ok: false; error: Failure } {
  const field = failure.field ?? "line";
  const message = failure.message.startsWith(`${field}: `) ? failure.message : `${field}: ${failure.message}`;
  return { ok: false, error: { ...failure, field, message: `${at}: ${message}` } };
}

/** SHA-256 as 64 hex digits, from hex or base64 (standard or url-safe). */
export function normaliseHash(value: string): string | null {
  if (HEX.test(value)) return value.toLowerCase();
  if (!BASE64.test(value)) return null;
  const bytes = Buffer.from(value.replace(/-/g, "+").replace(/_/g, "/"), "base64");
  return bytes.length === 32 ? bytes.toString("hex") : null;
}

type Parsed = z.output<typeof lineSchema>;

function identity(v: Parsed): Result<{ hash: string; foreign: boolean; start: string }> {
  const bad = (field: string, message: string) => fail("validation_failed", `${field}: ${message}`, field);
  if ((v.hash === undefined) === (v.key === undefined)) return bad("hash", "give exactly one of hash and key");
  if (RESERVED.some((reserved) => v.prefix.startsWith(reserved))) {
    return bad("prefix", "kws_ and kwp_ are Keyward's own session and platform tokens");
  }
  const maxStart = v.prefix.length + START_EXTRA;
  if (v.start !== undefined && (!v.start.startsWith(v.prefix) || v.start.length > maxStart)) {
    return bad("start", `must begin with the prefix and show at most ${START_EXTRA} characters after it`);
  }
  const ours = keyPrefix(v.type === "secret" ? "SECRET" : "PUBLISHABLE", v.environment === "live" ? "LIVE" : "TEST");
  if (v.key !== undefined) {
    if (!v.key.startsWith(v.prefix)) return bad("prefix", "the key does not begin with it");
    if (v.start !== undefined && !v.key.startsWith(v.start)) return bad("start", "the key does not begin with it");
    const keyward = parseKey(v.key).ok;
    if (keyward && v.prefix !== ours) return bad("prefix", `a Keyward key of this type and environment is ${ours}`);
    if (v.format !== undefined && (v.format === "keyward") !== keyward) {
      return bad("format", `the key is ${keyward ? "" : "not "}in Keyward's format`);
    }
    return ok({ hash: hashKey(v.key), foreign: !keyward, start: v.start ?? v.key.slice(0, v.prefix.length + 4) });
  }
  const hash = normaliseHash(v.hash ?? "");
  if (!hash) return bad("hash", "must be a SHA-256 digest: 64 hex digits or 44 base64 characters");
  if (v.format === "keyward" && v.prefix !== ours) {
    return bad("prefix", `a Keyward key of this type and environment is ${ours}`);
  }
  return ok({ hash, foreign: v.format !== "keyward", start: v.start ?? v.prefix });
}

/** Parses one line of JSON text, then checks it. */
export function parseImportLine(text: string, at: string, now: Date): Result<ImportLine> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return lineFailure(at, { code: "validation_failed", message: "not valid JSON", field: "line" });
  }
  return checkImportLine(json, at, now);
}

/** Checks one key (a parsed line); a failure names where it is and the field. */
export function checkImportLine(json: unknown, at: string, now: Date): Result<ImportLine> {
  const valid = validate(lineSchema, json);
  if (!valid.ok) return lineFailure(at, valid.error);
  const v = valid.value;
  const id = identity(v);
  if (!id.ok) return lineFailure(at, id.error);
  const type: KeyType = v.type === "secret" ? "SECRET" : "PUBLISHABLE";
  if (v.scopes.includes(ALL_SCOPES)) {
    const message = "scopes: * is for platform admins' own keys; give an imported key named scopes";
    return lineFailure(at, { code: "validation_failed", message, field: "scopes" });
  }
  const shape = checkShape({ type, scopes: v.scopes, allowedOrigins: v.allowedOrigins, allowedIps: v.allowedIps });
  if (shape) return lineFailure(at, shape);
  const expiresAt = v.expiresAt ? new Date(v.expiresAt) : null;
  if (expiresAt && expiresAt.getTime() <= now.getTime()) {
    return lineFailure(at, { code: "validation_failed", message: "must be in the future", field: "expiresAt" });
  }
  return ok({
    at,
    ...id.value,
    prefix: v.prefix,
    workspace: v.workspace,
    environment: v.environment === "live" ? "LIVE" : "TEST",
    type,
    name: v.name,
    scopes: v.scopes,
    allowedOrigins: v.allowedOrigins,
    allowedIps: v.allowedIps,
    service: v.service ?? null,
    expiresAt,
    rateLimit: v.rateLimit ?? null,
    metadata: v.metadata ?? {},
  });
}
