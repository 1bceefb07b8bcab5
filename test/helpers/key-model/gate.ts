import { AsyncLocalStorage } from "node:async_hooks";
import type { Scheduler } from "fast-check";
import type { Database } from "../../../server/db";

// Lets fast-check's scheduler interleave concurrent requests inside the server:
// every database call a tagged request makes waits for the scheduler twice, once
// before it is sent and once before its answer is handed back. So the scheduler
// decides in which order the requests' queries reach the database and in which
// order their results resume the code that asked (a verify's read that saw the key
// before a revoke committed can be made to land after the revoke answered).
// Requests start only when the scheduler says so, too. What runs outside a tagged
// request (the test's own set-up, the usage flush, the webhook worker) is not held.
//
// Not controlled: how the database itself orders two statements sent at once, and
// the commit of a transaction (it follows its last statement). A replayed seed
// replays the scheduler's choices; the database's timing may still differ.

type Prisma = Database["prisma"];

interface Tag {
  who: string;
  /** Its transactions run whole, their statements not held (see `Scheduled.wholeTransactions`). */
  whole: boolean;
  /** Set while a whole transaction of this request runs. */
  inTransaction: boolean;
}

const actor = new AsyncLocalStorage<Tag>();
let scheduler: Scheduler | null = null;
/** Held steps let go so far in this exploration, and who waits for a count of them. */
let released = 0;
let waiting: { at: number; resolve(): void }[] = [];

function stepped(): void {
  released += 1;
  const due = waiting.filter((waiter) => waiter.at <= released);
  waiting = waiting.filter((waiter) => waiter.at > released);
  for (const waiter of due) waiter.resolve();
}

/** Resolves once `count` held steps (starts, sends, answers) have been let go. */
export function afterSteps(count: number): Promise<void> {
  if (count <= released) return Promise.resolve();
  return new Promise((resolve) => waiting.push({ at: count, resolve }));
}

/** The server's Prisma client with every query of a tagged request held by the current scheduler. */
export function gatedPrisma(client: Prisma): Prisma {
  const extended = client.$extends({
    query: {
      async $allOperations({ model, operation, args, query }) {
        const tag = actor.getStore();
        const held = scheduler;
        if (tag === undefined || tag.inTransaction || held === null) return query(args);
        const what = `${tag.who}: ${model ?? "sql"}.${operation}`;
        await held.schedule(Promise.resolve(), `${what} sent`);
        stepped();
        const result = await query(args);
        await held.schedule(Promise.resolve(), `${what} answered`);
        stepped();
        return result;
      },
    },
  });
  const $transaction = extended.$transaction.bind(extended) as (...args: unknown[]) => Promise<unknown>;
  const whole = (first: unknown, ...rest: unknown[]) => {
    const tag = actor.getStore();
    if (typeof first !== "function" || !tag?.whole) return $transaction(first, ...rest);
    // A flag on the request's tag, not a nested context: Prisma runs a transaction's
    // statements from its own promise chain, outside the callback's async context.
    tag.inTransaction = true;
    return $transaction(first, ...rest).finally(() => {
      tag.inTransaction = false;
    });
  };
  // Same methods and models; the extended client's type only differs in its generics.
  return new Proxy(extended, {
    get: (target, property, receiver) =>
      property === "$transaction" ? whole : Reflect.get(target, property, receiver),
  }) as unknown as Prisma;
}

/** A request the scheduler starts: `started` is called the moment it is let go. */
export interface Scheduled<T> {
  who: string;
  /**
   * Run its transactions whole: the scheduler holds its statements outside
   * transactions only, so each transaction runs as one step. Needed beside an `atomically` step
   * that writes the same rows: that step waits for the transaction, and the
   * scheduler waits for that step, so holding the transaction's statements would
   * deadlock until Prisma's transaction timeout.
   */
  wholeTransactions?: boolean;
  run(): Promise<T>;
  started?(): void;
}

/** Starts one request when the scheduler picks it, tagged with its name (also from inside another request). */
export function launch<T>(s: Scheduler, request: Scheduled<T>): Promise<T> {
  return actor.run({ who: request.who, whole: request.wholeTransactions ?? false, inTransaction: false }, async () => {
    await s.schedule(Promise.resolve(), `${request.who} starts`);
    stepped();
    request.started?.();
    return request.run();
  });
}

/**
 * Runs a request as one step: the scheduler picks when it starts and waits for its
 * answer before letting anything else go, and its own queries are not held. A
 * revoke or a switch is one transaction whose effect others see at its commit (and
 * this instance's cache drops the key or workspace before it answers), so as one
 * step it still lands anywhere among the other requests' queries and answers.
 */
export function atomically(s: Scheduler, who: string, run: () => Promise<void>): Promise<void> {
  const step = s.scheduleSequence([{ label: `${who} (start to answer)`, builder: () => actor.exit(run) }]);
  return step.task.then(({ faulty }) => {
    if (faulty) throw new Error(`${who} failed`);
  });
}

/** Holds the queries of tagged requests with this scheduler while `body` runs. */
export async function withScheduler<T>(s: Scheduler, body: () => Promise<T>): Promise<T> {
  scheduler = s;
  released = 0;
  waiting = [];
  try {
    return await body();
  } finally {
    scheduler = null;
  }
}

/**
 * Starts every request under the scheduler's control and waits for all of them;
 * the scheduler picks every start, send and answer.
 */
export function interleave<T>(s: Scheduler, requests: Scheduled<T>[]): Promise<T[]> {
  return withScheduler(s, () => s.waitFor(Promise.all(requests.map((request) => launch(s, request)))));
}
