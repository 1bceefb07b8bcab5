import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { acquireLock, currentOwner, LockHeld, type LockOwner } from "../../server/data-lock";

// The embedded database's lock (server/data-lock.ts) against real processes: the
// owners below are live, killed, zombie or impostor processes of this machine.

const root = mkdtempSync(path.join(tmpdir(), "keyward-lock-"));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill("SIGKILL");
  rmSync(root, { recursive: true, force: true });
});

let serial = 0;
const lockPath = () => path.join(root, `db-${++serial}.lock`);

/** What /proc says of a process: its start time (field 22) and state (field 3). */
function stat(pid: number) {
  const text = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0], started: fields[19] ?? "" };
}

function ownerFile(file: string, owner: Partial<LockOwner> & { pid: number }) {
  const me = currentOwner();
  writeFileSync(file, JSON.stringify({ ...me, ...owner }));
}

function sleeper(): Promise<ChildProcess & { pid: number }> {
  const child = spawn("sleep", ["60"], { stdio: "ignore" });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once("spawn", () => resolve(child as ChildProcess & { pid: number }));
    child.once("error", reject);
  });
}

async function refusal(file: string): Promise<LockHeld> {
  const error = await acquireLock(file).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LockHeld);
  return error as LockHeld;
}

describe("the data directory lock", () => {
  it("a second opener in the same process is refused, and named; after release it may lock", async () => {
    const file = lockPath();
    const release = await acquireLock(file);
    expect((await refusal(file)).owner?.pid).toBe(process.pid);
    release();
    (await acquireLock(file))();
  });

  it("another live process's lock is refused; once that process is killed -9 it is taken at once", async () => {
    const file = lockPath();
    const owner = await sleeper();
    ownerFile(file, { pid: owner.pid, started: stat(owner.pid).started });
    expect((await refusal(file)).owner?.pid).toBe(owner.pid);

    const exited = new Promise((resolve) => owner.once("exit", resolve));
    owner.kill("SIGKILL");
    await exited;
    const started = performance.now();
    const release = await acquireLock(file);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(JSON.parse(readFileSync(file, "utf8")).pid).toBe(process.pid);
    release();
  });

  it("a pid reused by an unrelated process does not pass for the dead owner (its start time differs)", async () => {
    const file = lockPath();
    const impostor = await sleeper();
    const started = String(Number(stat(impostor.pid).started) - 1);
    ownerFile(file, { pid: impostor.pid, started });
    (await acquireLock(file))();
  });

  it("a killed owner that its parent has not reaped yet (a zombie) holds nothing", async () => {
    // sh starts `sleep 2` in the background, prints its pid and becomes `sleep 60`,
    // which never reaps it: once it exits, the background child stays a zombie. (A
    // child that exits before the exec — `sleep 0` on a loaded machine — is reaped by
    // the shell itself, and the test would find no process at all.)
    const parent = spawn("sh", ["-c", "sleep 2 & echo $!; exec sleep 60"], { stdio: ["ignore", "pipe", "ignore"] });
    children.push(parent);
    const pid = Number(
      await new Promise<string>((resolve) => parent.stdout?.once("data", (d: Buffer) => resolve(`${d}`))),
    );
    let zombie = stat(pid);
    for (let i = 0; zombie.state !== "Z" && i < 500; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      zombie = stat(pid);
    }
    expect(zombie.state).toBe("Z");
    const file = lockPath();
    ownerFile(file, { pid, started: zombie.started });
    (await acquireLock(file))();
  });

  it("a lock from another boot of the machine is dead, whatever its pid", async () => {
    const file = lockPath();
    ownerFile(file, { pid: process.pid, boot: "00000000-0000-0000-0000-000000000000" });
    (await acquireLock(file))();
  });

  it("a lock cut short by a machine crash (not JSON) is taken over", async () => {
    const file = lockPath();
    writeFileSync(file, "");
    (await acquireLock(file))();
  });

  it("an older Keyward's lock directory refuses while it is fresh and is replaced once stale", async () => {
    const file = lockPath();
    mkdirSync(file);
    expect((await refusal(file)).owner).toBeNull();
    const old = new Date(Date.now() - 60_000);
    utimesSync(file, old, old);
    (await acquireLock(file))();
  });

  it("six processes racing for a dead owner's lock, 20 times over: each time exactly one wins", async () => {
    const rounds = Array.from({ length: 20 }, () => lockPath());
    for (const file of rounds) ownerFile(file, { pid: process.pid, started: "1" });
    const at = Date.now() + 3000;
    // Each round starts on the same millisecond in every process; the winner holds its
    // lock until every racer has tried, so a late loser still meets a live owner.
    const script = `
      import { acquireLock } from ${JSON.stringify(path.resolve("server/data-lock.ts"))};
      const files = ${JSON.stringify(rounds)};
      const held = [];
      for (const [i, file] of files.entries()) {
        while (Date.now() < ${at} + i * 100) {}
        try { held.push(await acquireLock(file)); console.log(i, "won"); }
        catch (e) { console.log(i, e.constructor.name); }
      }
      await new Promise((r) => setTimeout(r, ${at} + files.length * 100 + 500 - Date.now()));`;
    const racers = Array.from({ length: 6 }, () => {
      const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      children.push(child);
      let out = "";
      child.stdout?.on("data", (d: Buffer) => {
        out += d;
      });
      return new Promise<string>((resolve) => child.once("exit", () => resolve(out)));
    });
    const lines = (await Promise.all(racers)).flatMap((out) => out.trim().split("\n"));
    expect(lines).toHaveLength(6 * rounds.length);
    for (const i of rounds.keys()) {
      const outcomes = lines.filter((line) => line.startsWith(`${i} `)).map((line) => line.split(" ")[1]);
      expect(outcomes.sort(), `round ${i}`).toEqual([
        "LockHeld",
        "LockHeld",
        "LockHeld",
        "LockHeld",
        "LockHeld",
        "won",
      ]);
    }
  }, 30_000);
});
