import pino, { type Logger } from "pino";

// Structured JSON logs. Credentials never reach a log line: the server does not
// log headers or GraphQL variables, and these paths are redacted as a backstop.
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "keyward" },
      redact: {
        paths: [
          "authorization",
          "*.authorization",
          "headers.authorization",
          "req.headers.authorization",
          "password",
          "*.password",
          "token",
          "*.token",
          "secret",
          "*.secret",
          "variables",
          "*.variables",
        ],
        censor: "[redacted]",
      },
    },
    destination,
  );
}
