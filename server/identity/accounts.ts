import { z } from "zod";
import { type Actor, recordAudit } from "../audit/log";
import type { Db } from "../db";
import { isUniqueViolation } from "../db";
import { fail, ok, type Result } from "../errors";
import type { Prisma, User } from "../generated/prisma/client";
import { displayName, email, password, validate } from "../validation";
import { dummyHash, hashPassword, verifyPassword } from "./passwords";
import { newSessionToken, sha256Hex } from "./tokens";

export interface AuthSettings {
  signup: "open" | "closed";
  sessionTtlMs: number;
}

/**
 * Counts sign-in attempts per account. An attempt is taken before the password is
 * checked, for known and unknown emails alike, so the limit says nothing about which
 * accounts exist; a successful sign-in gives its attempt back.
 */
export interface AttemptGate {
  take(email: string): Promise<{ allowed: boolean; retryAfterSeconds: number }>;
  giveBack(email: string): Promise<void>;
}

export interface Authenticated {
  token: string;
  user: User;
}

const signUpInput = z.object({ email, password, name: displayName(100) });
const signInInput = z.object({
  email: z.string().max(254, "must be at most 254 characters"),
  password: z.string().max(1024, "must be at most 1024 characters"),
});

/** Starts a session inside the caller's transaction; returns the token, shown once. */
async function openSession(
  tx: Prisma.TransactionClient,
  userId: string,
  settings: AuthSettings,
  ip: string | null,
  now: Date,
) {
  const token = newSessionToken();
  await tx.session.create({
    data: { userId, tokenHash: sha256Hex(token), expiresAt: new Date(now.getTime() + settings.sessionTtlMs), ip },
  });
  return token;
}

export async function signUp(
  db: Db,
  settings: AuthSettings,
  input: unknown,
  ip: string | null,
  now: Date,
): Promise<Result<Authenticated>> {
  if (settings.signup === "closed") {
    return fail("insufficient_permissions", "Sign-up is closed on this server; ask an administrator for an account.");
  }
  const valid = validate(signUpInput, input);
  if (!valid.ok) return valid;
  const { email: address, name } = valid.value;
  if (await db.user.findUnique({ where: { email: address }, select: { id: true } })) {
    return fail("validation_failed", "email: an account with this email already exists", "email");
  }
  const passwordHash = await hashPassword(valid.value.password);
  try {
    const { user, token } = await db.$transaction(async (tx) => {
      const created = await tx.user.create({ data: { email: address, name, passwordHash } });
      const token = await openSession(tx, created.id, settings, ip, now);
      const actor: Actor = { type: "user", id: created.id, ip };
      await recordAudit(
        tx,
        actor,
        { workspaceId: null, action: "user.sign_up", targetType: "user", targetId: created.id },
        now,
      );
      return { user: created, token };
    });
    return ok({ token, user });
  } catch (error) {
    if (isUniqueViolation(error)) {
      return fail("validation_failed", "email: an account with this email already exists", "email");
    }
    throw error;
  }
}

export async function signIn(
  db: Db,
  settings: AuthSettings,
  attempts: AttemptGate,
  input: unknown,
  ip: string | null,
  now: Date,
): Promise<Result<Authenticated>> {
  const valid = validate(signInInput, input);
  if (!valid.ok) return valid;
  const address = valid.value.email.trim().toLowerCase();
  const attempt = await attempts.take(address);
  if (!attempt.allowed) {
    return fail(
      "rate_limit_exceeded",
      `Too many sign-in attempts for this account; retry in ${attempt.retryAfterSeconds} s.`,
    );
  }
  const user = await db.user.findUnique({ where: { email: address } });
  const matches = await verifyPassword(user?.passwordHash ?? (await dummyHash()), valid.value.password);
  if (!user || !matches) return fail("authentication_required", "Email or password is incorrect.");
  await attempts.giveBack(address);
  const token = await db.$transaction(async (tx) => {
    const token = await openSession(tx, user.id, settings, ip, now);
    await recordAudit(
      tx,
      { type: "user", id: user.id, ip },
      { workspaceId: null, action: "user.sign_in", targetType: "user", targetId: user.id },
      now,
    );
    return token;
  });
  return ok({ token, user });
}

/** Ends this session, or every session of the user. */
export async function signOut(
  db: Db,
  session: { userId: string; sessionId: string },
  allSessions: boolean,
  ip: string | null,
  now: Date,
): Promise<Result<true>> {
  await db.$transaction(async (tx) => {
    await tx.session.updateMany({
      where: allSessions ? { userId: session.userId, revokedAt: null } : { id: session.sessionId },
      data: { revokedAt: now },
    });
    await recordAudit(
      tx,
      { type: "user", id: session.userId, ip },
      {
        workspaceId: null,
        action: "user.sign_out",
        targetType: "user",
        targetId: session.userId,
        data: { allSessions },
      },
      now,
    );
  });
  return ok(true);
}

export async function createPlatformAdmin(db: Db, input: unknown, now: Date): Promise<Result<User>> {
  const valid = validate(signUpInput, input);
  if (!valid.ok) return valid;
  const passwordHash = await hashPassword(valid.value.password);
  try {
    const user = await db.$transaction(async (tx) => {
      const created = await tx.user.create({
        data: { email: valid.value.email, name: valid.value.name, passwordHash, isPlatformAdmin: true },
      });
      await recordAudit(
        tx,
        { type: "system", id: null, ip: null },
        { workspaceId: null, action: "user.create_admin", targetType: "user", targetId: created.id },
        now,
      );
      return created;
    });
    return ok(user);
  } catch (error) {
    if (isUniqueViolation(error))
      return fail("validation_failed", "email: an account with this email already exists", "email");
    throw error;
  }
}
