import fc from "fast-check";

// How many runs a model test makes, and how a failure is replayed. fast-check
// reports a failing case by its seed and shrink path (plus, for command
// sequences, a replayPath); the failure message spells them out as the
// environment variables below, which the test honours:
//
//   KEYWARD_MODEL_RUNS=500                    more runs than the default
//   KEYWARD_MODEL_SEED=… KEYWARD_MODEL_PATH=… KEYWARD_MODEL_REPLAY=…
//                                             replays exactly the failing case

export interface ModelSettings {
  numRuns: number;
  seed: number | undefined;
  path: string | undefined;
  /** fc.commands' replayPath: which commands of the shrunk sequence were kept. */
  replayPath: string | undefined;
}

function integer(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return undefined;
  if (!/^-?\d+$/.test(raw)) throw new Error(`${name} must be an integer, not ${JSON.stringify(raw)}`);
  return Number(raw);
}

export function modelSettings(defaultRuns: number): ModelSettings {
  return {
    numRuns: integer("KEYWARD_MODEL_RUNS") ?? defaultRuns,
    seed: integer("KEYWARD_MODEL_SEED"),
    path: process.env.KEYWARD_MODEL_PATH || undefined,
    replayPath: process.env.KEYWARD_MODEL_REPLAY || undefined,
  };
}

export interface ModelReport {
  runs: number;
  failed: boolean;
  ms: number;
}

/**
 * Runs the property and, on failure, throws fast-check's report headed by the
 * command line that replays the shrunk case. `file` and `test` (a part of its name) are for that line.
 */
export async function checkModel<T>(
  property: fc.IAsyncProperty<T>,
  settings: ModelSettings,
  file: string,
  test?: string,
): Promise<ModelReport> {
  const started = performance.now();
  const result = await fc.check(property, {
    numRuns: settings.numRuns,
    ...(settings.seed === undefined ? {} : { seed: settings.seed }),
    ...(settings.path === undefined ? {} : { path: settings.path }),
  });
  const ms = Math.round(performance.now() - started);
  if (result.failed) {
    const shown = result.counterexample ? fc.stringify(result.counterexample) : "";
    const replayPath = /replayPath="([^"]*)"/.exec(shown)?.[1];
    const replay = [
      `KEYWARD_MODEL_SEED=${result.seed}`,
      `KEYWARD_MODEL_PATH=${result.counterexamplePath ?? ""}`,
      ...(replayPath ? [`KEYWARD_MODEL_REPLAY='${replayPath}'`] : []),
      `npx vitest run ${file}${test ? ` -t '${test}'` : ""}`,
    ].join(" ");
    const error = result.errorInstance as { message?: string; actual?: unknown; expected?: unknown };
    const diff =
      "actual" in error
        ? `\n  got:      ${fc.stringify(error.actual)}\n  expected: ${fc.stringify(error.expected)}`
        : "";
    const cause = `${error.message ?? String(error)}${diff}`;
    throw new Error(
      `Replay with: ${replay}\n\n${fc.defaultReportMessage(result) ?? ""}\n\nThe failing check: ${cause}`,
      {
        cause: result.errorInstance,
      },
    );
  }
  return { runs: result.numRuns, failed: false, ms };
}
