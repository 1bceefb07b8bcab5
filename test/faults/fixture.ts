import { randomBytes } from "node:crypto";
import { createClient, type KeywardClient, KeywardError } from "@keyward/sdk";
import { type ServerProcess, startServer } from "../helpers/processes";

// What every fault test needs: Keyward servers as `npm start` runs them, a signed-in
// owner with a workspace, keys, and a verifier that records every answer it gets.

export const client = (server: ServerProcess, token?: string) => createClient({ url: `${server.url}/graphql`, token });

export interface Owner {
  client: KeywardClient;
  /** The owner's session token, for a client of another instance. */
  token: string;
  workspaceId: string;
  createKey(
    scopes?: string[],
    name?: string,
    rateLimit?: { limit: number; windowSeconds: number },
  ): Promise<{ id: string; secret: string }>;
}

export function serverEnv(databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return { DATABASE_URL: databaseUrl, KEYWARD_MASTER_KEY: randomBytes(32).toString("base64"), ...extra };
}

export async function signUpOwner(server: ServerProcess, slug: string): Promise<Owner> {
  const { signUp } = await client(server).signUp({
    input: { email: `owner@${slug}.test`, password: "correct horse battery staple", name: "Owner" },
  });
  const owner = client(server, signUp.token);
  const workspaceId = (await owner.createWorkspace({ input: { name: slug, slug } })).createWorkspace.id;
  return {
    client: owner,
    token: signUp.token,
    workspaceId,
    async createKey(scopes = [], name = "fault key", rateLimit) {
      const { createApiKey } = await owner.createApiKey({
        input: { workspaceId, name, type: "SECRET", environment: "LIVE", scopes, rateLimit },
      });
      return { id: createApiKey.apiKey.id, secret: createApiKey.secret };
    },
  };
}

export { startServer };

/** One answer of POST /v1/keys/verify: the HTTP status and the code (the key's, or the error's). */
export interface Answer {
  /** When the request was sent, and how long its answer took (ms). */
  at: number;
  ms: number;
  status: number;
  code: string;
}

export async function verifyRest(server: ServerProcess, verifier: string, key: string): Promise<Answer> {
  const at = Date.now();
  try {
    const response = await fetch(`${server.url}/v1/keys/verify`, {
      method: "POST",
      headers: { authorization: `Bearer ${verifier}`, "content-type": "application/json" },
      body: JSON.stringify({ key }),
    });
    const body = (await response.json()) as { code?: string; error?: { code: string } };
    return { at, ms: Date.now() - at, status: response.status, code: body.code ?? body.error?.code ?? "?" };
  } catch {
    return { at, ms: Date.now() - at, status: 0, code: "no answer" };
  }
}

/** Runs `once` in `workers` loops until stopped; every answer is kept. */
export function underLoad(workers: number, once: () => Promise<Answer>) {
  const answers: Answer[] = [];
  let running = true;
  const loops = Array.from({ length: workers }, async () => {
    while (running) answers.push(await once());
  });
  return {
    answers,
    async stop() {
      running = false;
      await Promise.all(loops);
      return answers;
    },
  };
}

/** Counts answers by "status code". */
export function tally(answers: readonly Answer[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const { status, code } of answers) out[`${status} ${code}`] = (out[`${status} ${code}`] ?? 0) + 1;
  return out;
}

/** A GraphQL call's outcome as "status code" (ok for success). */
export async function outcome(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return "ok";
  } catch (error) {
    return error instanceof KeywardError ? `${error.status} ${error.code}` : `thrown ${String(error)}`;
  }
}

/** The median and the slowest answer time of these answers, for the figures a test prints. */
export function latency(answers: readonly Answer[]): string {
  const sorted = answers.map((a) => a.ms).sort((x, y) => x - y);
  return `p50 ${sorted[Math.floor(sorted.length / 2)] ?? "-"} ms, max ${sorted.at(-1) ?? "-"} ms`;
}
