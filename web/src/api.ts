import { createClient, KeywardError, knownCode } from "@keyward/sdk";

// One client for the whole app. The session is the HttpOnly cookie the server sets
// (POST /dashboard/session): the page never sees the token, and every request
// carries the CSRF header the server demands of cookie-signed requests.

const CSRF = { "x-graphql-yoga-csrf": "dashboard" };

export const api = createClient({ url: "/graphql", headers: CSRF });

export interface SessionUser {
  id: string;
  email: string;
  name: string;
}

interface ErrorBody {
  errors?: {
    message: string;
    extensions?: { code?: string; docUrl?: string; field?: string; http?: { status?: number } };
  }[];
}

function toError(body: ErrorBody | undefined, status: number): KeywardError {
  const first = body?.errors?.[0];
  const ext = first?.extensions ?? {};
  return new KeywardError(
    first?.message ?? `The server answered HTTP ${status}.`,
    knownCode(ext.code),
    ext.http?.status ?? status,
    ext.docUrl,
    ext.field,
    undefined,
    [],
  );
}

async function session(method: "POST" | "DELETE", body?: unknown): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch("/dashboard/session", {
      method,
      headers: { ...CSRF, "content-type": "application/json" },
      body: body === undefined ? null : JSON.stringify(body),
    });
  } catch (cause) {
    throw new KeywardError(
      `Could not reach Keyward: ${String(cause)}`,
      "network_error",
      0,
      undefined,
      undefined,
      undefined,
      [],
    );
  }
  const parsed = (await response.json().catch(() => undefined)) as (ErrorBody & { data?: unknown }) | undefined;
  if (!response.ok || parsed?.errors?.length) throw toError(parsed, response.status);
  return parsed?.data;
}

export async function signIn(email: string, password: string): Promise<SessionUser> {
  const data = (await session("POST", { action: "signIn", input: { email, password } })) as { user: SessionUser };
  return data.user;
}

export async function signUp(email: string, password: string, name: string): Promise<SessionUser> {
  const data = (await session("POST", { action: "signUp", input: { email, password, name } })) as { user: SessionUser };
  return data.user;
}

export async function signOut(): Promise<void> {
  await session("DELETE");
}

/** Any thrown value as the error the app shows (catalog message and docUrl). */
export function asKeywardError(error: unknown): KeywardError {
  if (error instanceof KeywardError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new KeywardError(message, "INTERNAL_SERVER_ERROR", 0, undefined, undefined, undefined, []);
}
