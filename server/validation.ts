import { z } from "zod";
import { fail, ok, type Result } from "./errors";

// Input rules shared by every noun. Zod reports the first broken rule and its
// path, which becomes the `field` of a validation_failed error.

export function validate<S extends z.ZodType>(schema: S, input: unknown): Result<z.output<S>> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return ok(parsed.data);
  const issue = parsed.error.issues[0];
  const field = issue?.path.map(String).join(".") || undefined;
  const message = issue ? `${field ? `${field}: ` : ""}${issue.message}` : "invalid input";
  return fail("validation_failed", message, field);
}

// Control characters (NUL included) never belong in names; they break logs and UIs.
// biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

export const displayName = (max: number) =>
  z
    .string()
    .trim()
    .min(1, "must not be empty")
    .max(max, `must be at most ${max} characters`)
    .refine((value) => !CONTROL.test(value), "must not contain control characters")
    .refine((value) => value.isWellFormed(), "must be valid Unicode");

export const email = z
  .string()
  .trim()
  .max(254, "must be at most 254 characters")
  .pipe(z.email("must be a valid email address"))
  .transform((value) => value.toLowerCase());

export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 256;

export const password = z
  .string()
  .min(PASSWORD_MIN, `must be at least ${PASSWORD_MIN} characters`)
  .max(PASSWORD_MAX, `must be at most ${PASSWORD_MAX} characters`)
  .refine((value) => new Set(value).size >= 4, "is too simple: use more different characters");

export const slug = z
  .string()
  .trim()
  .min(3, "must be at least 3 characters")
  .max(40, "must be at most 40 characters")
  .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, "must be lowercase letters, digits and inner hyphens");

export const uuid = z.uuid("must be a valid id");
