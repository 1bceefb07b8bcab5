import { type KeywardClient, KeywardError } from "@keyward/sdk";
import { expect } from "vitest";
import type { TestApp } from "../app";
import type { Predicted, VerifyAsk } from "./model";

// The real side of the model test: one workspace per run, driven as a client would
// drive it — mutations through the SDK, and each verification asked twice, of
// GraphQL's verifyApiKey and of POST /v1/keys/verify, with the same credential.

export interface Real {
  app: TestApp;
  /** The workspace owner's session: a member with keys:write and keys:verify. */
  client: KeywardClient;
  token: string;
  workspaceId: string;
}

let workspaces = 0;

export async function newWorkspace(app: TestApp, owner: { client: KeywardClient; token: string }): Promise<Real> {
  workspaces += 1;
  const { createWorkspace } = await owner.client.createWorkspace({
    input: { name: "Model run", slug: `model-${process.pid}-${workspaces}` },
  });
  return { app, client: owner.client, token: owner.token, workspaceId: createWorkspace.id };
}

/** A mutation's outcome: ok, or the catalog code and message it was refused with. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; code: string; message: string };

export async function attempt<T>(call: Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await call };
  } catch (error) {
    if (!(error instanceof KeywardError)) throw error;
    return { ok: false, code: error.code, message: error.message };
  }
}

interface Answer {
  valid: boolean;
  code: string;
  keyId: string | null;
  ratelimit: { remaining: number } | null;
}

const input = (key: string, ask: VerifyAsk) => ({
  key,
  requiredScopes: ask.requiredScopes,
  ...(ask.origin === null ? {} : { origin: ask.origin }),
  ...(ask.ip === null ? {} : { ip: ask.ip }),
});

export async function verifyGraphql(real: Real, key: string, ask: VerifyAsk): Promise<Answer> {
  const { verifyApiKey } = await real.client.verifyApiKey({ input: input(key, ask) });
  return verifyApiKey;
}

export async function verifyRest(real: Real, key: string, ask: VerifyAsk): Promise<Answer> {
  const response = await real.app.fetch("/v1/keys/verify", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${real.token}` },
    body: JSON.stringify(input(key, ask)),
  });
  expect(response.status, "POST /v1/keys/verify answers a refused key with 200 and its code").toBe(200);
  return (await response.json()) as Answer;
}

/** The part of an answer the model predicts, in the model's shape. */
export function observed(answer: Answer): Predicted {
  expect(answer.valid, `valid says what code ${answer.code} says`).toBe(answer.code === "VALID");
  return {
    code: answer.code,
    keyId: answer.keyId,
    remaining: answer.valid ? (answer.ratelimit?.remaining ?? null) : null,
  };
}

/** How often each code was answered, over the whole file: the report shows what the runs reached. */
export const answered = new Map<string, number>();

/** Asks both paths in turn (each spends a point of a valid key) and compares each with its prediction. */
export async function verifyBoth(
  real: Real,
  key: string,
  ask: VerifyAsk,
  predict: () => Predicted,
  label: string,
): Promise<void> {
  const viaGraphql = observed(await verifyGraphql(real, key, ask));
  expect(viaGraphql, `verifyApiKey of ${label}`).toEqual(predict());
  answered.set(viaGraphql.code, (answered.get(viaGraphql.code) ?? 0) + 1);
  const viaRest = observed(await verifyRest(real, key, ask));
  expect(viaRest, `POST /v1/keys/verify of ${label}`).toEqual(predict());
}
