import type { KeywardError } from "@keyward/sdk";
import { type DependencyList, useCallback, useEffect, useRef, useState } from "react";
import { asKeywardError } from "./api";

// What every page and dialog did by hand: fetch when its inputs change, keep the answer,
// and turn a failure into the catalog error the page shows. A page renders
// `!data && !error` as loading, `error` through ErrorNotice, and the rest from `data`.

export interface Load<T> {
  /** The latest answer; null until the first arrives (and, with `clear`, during each reload). */
  data: T | null;
  error: KeywardError | null;
  /** Fetches again: after an action, or from a Refresh button. */
  reload: () => Promise<void>;
  /** Puts what an action answered in place of a fetch (e.g. the switch a mutation returned). */
  setData: (data: T) => void;
  /** Shows an action's failure where the load's own would be; null clears it. */
  setError: (error: KeywardError | null) => void;
}

export interface LoadOptions {
  /** false: fetch nothing (a role that may not read it). Default true. */
  enabled?: boolean;
  /** true: drop the old answer while reloading (a new filter or page shows "Loading…"). */
  clear?: boolean;
}

/**
 * `fetcher` is called on mount and whenever `deps` change (biome.json checks that they
 * list what it reads, as for useEffect). Only the latest call's answer is kept, so a
 * slow answer for an old filter cannot replace a newer one.
 */
export function useLoad<T>(fetcher: () => Promise<T>, deps: DependencyList, options: LoadOptions = {}): Load<T> {
  const { enabled = true, clear = false } = options;
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<KeywardError | null>(null);
  const latest = useRef(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller's deps are what fetcher reads, checked at each call site (biome.json names this hook).
  const run = useCallback(fetcher, deps);

  const reload = useCallback(async () => {
    const call = ++latest.current;
    setError(null);
    if (clear) setData(null);
    try {
      const answer = await run();
      if (call === latest.current) setData(answer);
    } catch (caught) {
      if (call === latest.current) setError(asKeywardError(caught));
    }
  }, [run, clear]);

  useEffect(() => {
    if (enabled) void reload();
  }, [reload, enabled]);

  return { data, error, reload, setData, setError };
}
