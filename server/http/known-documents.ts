// Documents the server compiles at start, so the first request that sends one is as
// fast as the thousandth. The SDK's VerifyApiKey is the hottest call there is; this
// is the server's own copy of its text (byte for byte: the runner keys documents by
// their text), and test/unit/known-documents.test.ts fails when the SDK's generated
// copy differs.

export const SDK_VERIFY_API_KEY = `
    mutation VerifyApiKey($input: VerifyApiKeyInput!) {
  verifyApiKey(input: $input) {
    valid
    code
    message
    keyId
    workspaceId
    environment
    type
    scopes
    expiresAt
    metadata
    ratelimit {
      limit
      remaining
      resetAt
    }
    audience
    audiencePath
    deploymentVersion
  }
}
    `;

export const KNOWN_DOCUMENTS = [SDK_VERIFY_API_KEY];
