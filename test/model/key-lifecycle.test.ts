import fc from "fast-check";
import { afterAll, beforeAll, it } from "vitest";
import { signUpUser, startTestApp, type TestApp } from "../helpers/app";
import { emptyModel, lifecycleCommands } from "../helpers/key-model/commands";
import { answered, newWorkspace } from "../helpers/key-model/real";
import { checkModel, modelSettings } from "../helpers/key-model/replay";

// Model-based test of the key lifecycle (docs/testing.md, "Model-based tests"):
// fast-check draws sequences of up to 30 commands — create, update, roll (grace 0
// and more), revoke, the workspace's key switch, the clock moving on, verify
// (a known, rolled, revoked, made-up or mistyped key, through verifyApiKey and
// POST /v1/keys/verify alike) and reading every key's status — and runs each in a
// fresh workspace beside a plain model (test/helpers/key-model/model.ts). Every
// answer must be the model's. A failure names the seed to replay it with.

const FILE = "test/model/key-lifecycle.test.ts";
const settings = modelSettings(40);
const MAX_COMMANDS = 30;

let app: TestApp;
let owner: Awaited<ReturnType<typeof signUpUser>>;
beforeAll(async () => {
  app = await startTestApp();
  owner = await signUpUser(app, "model-owner");
});
afterAll(() => app?.close());

it(
  "every verification through both paths, every refusal and every status is what the model predicts",
  async () => {
    let sequences = 0;
    let executed = 0;
    const property = fc.asyncProperty(
      fc.commands(lifecycleCommands, { maxCommands: MAX_COMMANDS, size: "max", replayPath: settings.replayPath }),
      async (commands) => {
        const real = await newWorkspace(app, owner);
        await fc.asyncModelRun(() => ({ model: emptyModel(app.clock.now.getTime()), real }), commands);
        sequences += 1;
        // fast-check marks each command that passed its check and ran.
        executed += [...commands].filter((command) => (command as { hasRan?: boolean }).hasRan).length;
      },
    );
    const report = await checkModel(property, settings, FILE);
    console.info(
      `key lifecycle model: ${report.runs} runs, ${sequences} sequences, ${executed} commands, ${report.ms} ms` +
        ` on ${app.database.url ? "PostgreSQL" : "PGlite"}; verify codes ${JSON.stringify(Object.fromEntries(answered))}`,
    );
  },
  // Long runs (KEYWARD_MODEL_RUNS) get time in proportion.
  Math.max(120_000, settings.numRuns * 5_000),
);
