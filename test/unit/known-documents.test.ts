import { describe, expect, it } from "vitest";
import { VerifyApiKeyDocument } from "../../sdk/src/generated/graphql";
import { SDK_VERIFY_API_KEY } from "../../server/http/known-documents";

// The server compiles its own copy of the SDK's verify document at start and finds
// documents by their exact text: a copy that drifted would silently start cold.

describe("documents the server knows in advance", () => {
  it("its copy of VerifyApiKey is the SDK's generated text, byte for byte", () => {
    expect(SDK_VERIFY_API_KEY).toBe(VerifyApiKeyDocument.toString());
  });
});
