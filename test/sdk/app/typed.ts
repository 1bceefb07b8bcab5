// Type-checked by test/sdk/package.test.ts against the installed package with
// moduleResolution NodeNext and skipLibCheck false: the package's own .d.ts files are
// checked too, and its types must be real (not `any`) for the expect-errors to hold.
// The test writes exhaustive.ts beside it: a switch over every catalog code.
import { createClient, type ErrorCode, KeywardError, type WebhookEventType, webhookEventTypes } from "@keyward/sdk";

const keyward = createClient({ url: "http://127.0.0.1:4000/graphql", token: "sk_test_…" });

export async function newKeySecret(workspaceId: string): Promise<string> {
  const { createApiKey } = await keyward.createApiKey({
    input: { workspaceId, name: "ci", type: "SECRET", environment: "TEST", scopes: ["keys:verify"] },
  });
  // @ts-expect-error a secret is a string, not a number
  const wrong: number = createApiKey.secret;
  void wrong;
  // @ts-expect-error the input requires an environment
  await keyward.createApiKey({ input: { workspaceId, name: "ci", type: "SECRET", scopes: [] } });
  return createApiKey.secret;
}

export function describe(error: unknown): string {
  // @ts-expect-error a code outside the catalog is not an ErrorCode
  const bogus: ErrorCode = "no_such_code";
  void bogus;
  return error instanceof KeywardError ? `${error.code}: ${error.docUrl ?? error.message}` : "unknown";
}

/** The event list is typed by the package too: a payload's type narrows to the union. */
export function keyEvents(): WebhookEventType[] {
  // @ts-expect-error an event the server does not send is not a WebhookEventType
  const bogus: WebhookEventType = "key.nope";
  void bogus;
  return webhookEventTypes.filter((type) => type.startsWith("key."));
}
