import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpUser, startTestApp, type TestApp } from "../helpers/app";
import {
  afterSteps,
  atomically,
  gatedPrisma,
  interleave,
  launch,
  type Scheduled,
  withScheduler,
} from "../helpers/key-model/gate";
import { attempt, newWorkspace, type Real, verifyGraphql, verifyRest } from "../helpers/key-model/real";
import { checkModel, modelSettings } from "../helpers/key-model/replay";

// fast-check's scheduler explores interleavings of concurrent requests on one key:
// roll × roll, roll × revoke, revoke × verify, switch × verify.
// test/helpers/key-model/gate.ts holds every database call of each request (before
// it is sent and before its answer resumes the server) until the scheduler picks
// it, and starts each request when the scheduler says. The rules: of two rolls of
// one key exactly one makes a successor; a roll not yet done when a revoke answered
// is refused; a verification that starts after the revoke (or switch) answered
// sees it; one that started before may see either state; and nothing stale stays
// cached afterwards.

const FILE = "test/model/key-interleavings.test.ts";
const settings = modelSettings(25);

let app: TestApp;
let owner: Awaited<ReturnType<typeof signUpUser>>;
beforeAll(async () => {
  app = await startTestApp({}, { prisma: gatedPrisma });
  owner = await signUpUser(app, "interleavings-owner");
});
afterAll(() => app?.close());

async function secretKey(real: Real): Promise<{ id: string; secret: string }> {
  const { createApiKey } = await real.client.createApiKey({
    input: { workspaceId: real.workspaceId, name: "raced", type: "SECRET", environment: "LIVE" },
  });
  return { id: createApiKey.apiKey.id, secret: createApiKey.secret };
}

type Path = "graphql" | "rest";
const verifyVia = (real: Real, path: Path, key: string) =>
  (path === "graphql" ? verifyGraphql : verifyRest)(real, key, { origin: null, ip: null, requiredScopes: [] });

/** Both paths, outside the scheduler: what any later client is told. */
async function settled(real: Real, key: string): Promise<string[]> {
  return [(await verifyVia(real, "graphql", key)).code, (await verifyVia(real, "rest", key)).code];
}

const TIMEOUT = Math.max(120_000, settings.numRuns * 4_000);

describe("with fast-check's scheduler ordering every start, query and answer", () => {
  it(
    "roll × roll of one key: exactly one successor, the other roll refused, and the old key per the winner's grace",
    async () => {
      const real = await newWorkspace(app, owner);
      const property = fc.asyncProperty(
        fc.scheduler(),
        fc.constantFrom(0, 600),
        fc.constantFrom(0, 600),
        async (s, graceA, graceB) => {
          const key = await secretKey(real);
          const roll = (grace: number) => () =>
            attempt(real.client.rollApiKey({ input: { id: key.id, gracePeriodSeconds: grace } }));
          const [a, b] = await interleave(s, [
            { who: "roll A", run: roll(graceA) },
            { who: "roll B", run: roll(graceB) },
          ]);
          const outcomes = [a, b].map((outcome) => outcome?.ok);
          expect(outcomes.sort(), "exactly one of the two rolls goes through").toEqual([false, true]);
          const [won, lost, grace] = a?.ok ? [a, b, graceA] : [b, a, graceB];
          if (!won?.ok || lost?.ok !== false) throw new Error("unreachable: checked above");
          expect(lost.code).toBe("validation_failed");
          // The loser read the key before or after the winner committed: rolling, or (grace 0) expired.
          expect(lost.message).toMatch(grace === 0 ? /already rolled|expired/ : /already rolled/);
          const successors = await app.db.apiKey.count({ where: { rolledFromId: key.id } });
          expect(successors, "one successor row").toBe(1);
          expect(await settled(real, won.value.rollApiKey.secret)).toEqual(["VALID", "VALID"]);
          const old = grace === 0 ? "key_expired" : "VALID";
          expect(await settled(real, key.secret), `old key after a roll with grace ${grace}`).toEqual([old, old]);
        },
      );
      await checkModel(property, settings, FILE, "roll × roll");
    },
    TIMEOUT,
  );

  it(
    "roll × revoke of one key: a roll that had not taken effect when the revoke answered is refused, so no successor appears after it",
    async () => {
      const real = await newWorkspace(app, owner);
      const property = fc.asyncProperty(
        fc.scheduler(),
        fc.constantFrom(0, 600),
        fc.nat({ max: 30 }),
        async (s, grace, delay) => {
          const key = await secretKey(real);
          let successorsAtAnswer = -1;
          const [rolled] = await withScheduler(s, async () => {
            const roll = launch(s, {
              who: "roll",
              // Its transaction whole: the revoke's step waits for it (see gate.ts).
              wholeTransactions: true,
              run: () => attempt(real.client.rollApiKey({ input: { id: key.id, gracePeriodSeconds: grace } })),
            });
            const revoked = Promise.race([afterSteps(delay), roll]).then(() =>
              atomically(s, "revoke", async () => {
                await real.client.revokeApiKey({ input: { id: key.id, reason: "raced" } });
                // What an operator who lists the workspace's keys right after the answer sees.
                successorsAtAnswer = await app.db.apiKey.count({ where: { rolledFromId: key.id } });
              }),
            );
            return s.waitFor(Promise.all([roll, revoked]));
          });
          if (successorsAtAnswer === 0) {
            expect(rolled, "a roll still under way when the revoke answered").toMatchObject({
              ok: false,
              code: "validation_failed",
              message: expect.stringContaining("revoked"),
            });
          }
          expect(await settled(real, key.secret)).toEqual(["invalid_api_key", "invalid_api_key"]);
          if (rolled?.ok) expect(await settled(real, rolled.value.rollApiKey.secret)).toEqual(["VALID", "VALID"]);
        },
      );
      await checkModel(property, settings, FILE, "roll × revoke");
    },
    TIMEOUT,
  );

  it(
    "revoke × verify: a verification that starts after the revoke answered is refused, and nothing stale stays cached",
    async () => {
      const real = await newWorkspace(app, owner);
      const property = fc.asyncProperty(fc.scheduler(), race, async (s, { warm, during, after, delay }) => {
        const key = await secretKey(real);
        if (warm) expect(await settled(real, key.secret)).toEqual(["VALID", "VALID"]);
        const revoke = () => real.client.revokeApiKey({ input: { id: key.id, reason: "raced" } });
        const seen = await raceVerifies(s, real, key.secret, revoke, { during, after, delay });
        for (const { code, afterAnswer, who } of seen) {
          expect(code, who).toMatch(afterAnswer ? /^invalid_api_key$/ : /^(VALID|invalid_api_key)$/);
        }
        expect(await settled(real, key.secret), "once the dust settles").toEqual([
          "invalid_api_key",
          "invalid_api_key",
        ]);
      });
      await checkModel(property, settings, FILE, "revoke × verify");
    },
    TIMEOUT,
  );

  it(
    "switch × verify: a verification that starts after the switch answered obeys it, and nothing stale stays cached",
    async () => {
      const property = fc.asyncProperty(
        fc.scheduler(),
        race,
        fc.boolean(),
        async (s, { warm, during, after, delay }, on) => {
          // A workspace per run: the switch covers all of a workspace's keys.
          const real = await newWorkspace(app, owner);
          const key = await secretKey(real);
          const flip = (enabled: boolean) =>
            real.client.setKeysEnabled({ input: { workspaceId: real.workspaceId, enabled } });
          if (on) await flip(false);
          const before = on ? "keys_disabled" : "VALID";
          const now = on ? "VALID" : "keys_disabled";
          if (warm) expect(await settled(real, key.secret)).toEqual([before, before]);
          const seen = await raceVerifies(s, real, key.secret, () => flip(on), { during, after, delay });
          for (const { code, afterAnswer, who } of seen) {
            expect(code, who).toMatch(new RegExp(afterAnswer ? `^${now}$` : `^(${before}|${now})$`));
          }
          expect(await settled(real, key.secret), "once the dust settles").toEqual([now, now]);
        },
      );
      await checkModel(property, settings, FILE, "switch × verify");
    },
    TIMEOUT,
  );
});

const paths = fc.array(fc.constantFrom<Path>("graphql", "rest"), { minLength: 1, maxLength: 3 });
/**
 * Warm the cache first or not; verifications racing the change; verifications sent
 * once it answered; how many of the racing ones' held steps go before the change is offered.
 */
const race = fc.record({ warm: fc.boolean(), during: paths, after: paths, delay: fc.nat({ max: 24 }) });
type Race = { during: Path[]; after: Path[]; delay: number };

interface Seen {
  who: string;
  code: string;
  /** The verification started once the change had answered. */
  afterAnswer: boolean;
}

/** Runs `change` beside verifications of `key`, and more verifications started from its answer. */
async function raceVerifies(
  s: fc.Scheduler,
  real: Real,
  key: string,
  change: () => Promise<unknown>,
  { during, after, delay }: Race,
): Promise<Seen[]> {
  let answered = false;
  const seen: Seen[] = [];
  const verify = (who: string, path: Path): Scheduled<void> => {
    let afterAnswer = false;
    return {
      who: `${who} (${path})`,
      started: () => {
        afterAnswer = answered;
      },
      run: async () => {
        const { code } = await verifyVia(real, path, key);
        seen.push({ who: `${who} (${path})`, code, afterAnswer });
      },
    };
  };
  // The change is one scheduled step, offered to the scheduler once `delay` held
  // steps of the racing verifications have gone (or they are all done), so it lands
  // anywhere in their lives; the verifications a client sends once it has the
  // change's answer start from that answer, each when the scheduler picks it.
  await withScheduler(s, async () => {
    const racing = Promise.all(during.map((path, i) => launch(s, verify(`verify ${i}`, path))));
    const changed = Promise.race([afterSteps(delay), racing]).then(() =>
      atomically(s, "change", async () => {
        await change();
        answered = true;
      }),
    );
    const afterwards = changed.then(() =>
      Promise.all(after.map((path, i) => launch(s, verify(`verify after answer ${i}`, path)))),
    );
    await s.waitFor(Promise.all([racing, afterwards]));
  });
  expect(seen).toHaveLength(during.length + after.length);
  return seen;
}
