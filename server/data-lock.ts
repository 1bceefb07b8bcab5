import { randomUUID } from "node:crypto";
import { linkSync, mkdirSync, readFileSync, rmdirSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";

// One process at a time on an embedded data directory. The lock file names its
// owner (pid, when that process started, which boot of the machine), so a lock left
// by a process that died (kill -9, power loss) is seen to be dead at once and taken
// over, where a lock that expires with time would refuse a supervisor's restart for
// as long as its timeout. A pid reused by an unrelated process does not pass for the
// owner: its start time differs. The check is local to one machine, like the files
// themselves: the embedded database is not for a directory shared over the network.
//
// The lock is created complete and atomically (link(2) of a file already written),
// and a dead owner's lock is removed only by the one process holding `<lock>.break`
// (mkdir is atomic), so two processes starting at once after a crash cannot both
// take it over.

export interface LockOwner {
  pid: number;
  /** The process's start time in clock ticks since boot (/proc/<pid>/stat); null where there is no /proc. */
  started: string | null;
  boot: string | null;
  host: string;
}

export class LockHeld extends Error {
  constructor(readonly owner: LockOwner | null) {
    super(owner ? `held by pid ${owner.pid}` : "held by another process");
  }
}

/** A breaker older than this belongs to a process that died in the middle of a takeover. */
const BREAKER_STALE_MS = 10_000;
/** What proper-lockfile (the lock before this one) refreshed its directory's mtime within. */
const LEGACY_STALE_MS = 30_000;

function read(file: string): string | null {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return null;
  }
}

/** Start time (field 22) and state (field 3) of a process, from /proc; null where unknown. */
function procStat(pid: number): { started: string; state: string } | null {
  const stat = read(`/proc/${pid}/stat`);
  // The command name (field 2) may hold spaces and parentheses: count from its end.
  const fields = stat?.slice(stat.lastIndexOf(")") + 2).split(" ");
  return fields?.[0] && fields[19] ? { state: fields[0], started: fields[19] } : null;
}

const bootId = () => read("/proc/sys/kernel/random/boot_id")?.trim() ?? null;

export function currentOwner(): LockOwner {
  return { pid: process.pid, started: procStat(process.pid)?.started ?? null, boot: bootId(), host: hostname() };
}

/** Whether the process a lock names still runs (it may be this one). */
export function ownerAlive(owner: LockOwner): boolean {
  const boot = bootId();
  if (owner.boot && boot && owner.boot !== boot) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: it runs, as another user.
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
  }
  const stat = procStat(owner.pid);
  // It answers a signal but /proc does not show it (no /proc, or hidden): take it as alive.
  if (!stat) return true;
  // A zombie (killed, not yet reaped by its parent) holds no files.
  if (stat.state === "Z" || stat.state === "X") return false;
  return owner.started === null || owner.started === stat.started;
}

function parseOwner(text: string): LockOwner | null {
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    return typeof value.pid === "number" && value.pid > 0 ? (value as LockOwner) : null;
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Removes the lock if it still reads `seen` (a dead owner's), under the breaker; false when another process is breaking it. */
function breakDead(lockPath: string, seen: string | "legacy"): boolean {
  const breaker = `${lockPath}.break`;
  try {
    mkdirSync(breaker);
  } catch {
    const age = Date.now() - (statSafe(breaker)?.mtimeMs ?? Date.now());
    if (age > BREAKER_STALE_MS) rmSync(breaker, { recursive: true, force: true });
    return false;
  }
  try {
    if (seen === "legacy") rmSync(lockPath, { recursive: true, force: true });
    else if (read(lockPath) === seen) unlinkSync(lockPath);
  } finally {
    rmdirSync(breaker);
  }
  return true;
}

function statSafe(file: string) {
  try {
    return statSync(file);
  } catch {
    return null;
  }
}

/** Takes the lock at `lockPath` for this process; returns its release. Throws LockHeld while a live process holds it. */
export async function acquireLock(lockPath: string): Promise<() => void> {
  const mine = JSON.stringify(currentOwner());
  const draft = `${lockPath}.${process.pid}.${randomUUID()}`;
  writeFileSync(draft, mine, { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 200; attempt++) {
      try {
        linkSync(draft, lockPath);
        return () => {
          if (read(lockPath) === mine) unlinkSync(lockPath);
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const stat = statSafe(lockPath);
      if (!stat) continue;
      if (stat.isDirectory()) {
        // Left by an older Keyward (proper-lockfile), which kept touching it while alive.
        if (Date.now() - stat.mtimeMs < LEGACY_STALE_MS) throw new LockHeld(null);
        if (!breakDead(lockPath, "legacy")) await sleep(20);
        continue;
      }
      const text = read(lockPath);
      if (text === null) continue;
      const owner = parseOwner(text);
      // A live owner's lock is always complete (linked once written): one that is not
      // was cut short by a crash of the machine, and its owner is gone.
      if (owner && ownerAlive(owner)) throw new LockHeld(owner);
      if (!breakDead(lockPath, text)) await sleep(20);
    }
    throw new LockHeld(null);
  } finally {
    rmSync(draft, { force: true });
  }
}
