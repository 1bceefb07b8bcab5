import { hash, randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import type { Logger } from "pino";
import { z } from "zod";
import { fail, type Result } from "../errors";
import { validate } from "../validation";
import { COMMAND_NAMES, type OperatorCommands } from "./operations";

// The running server's local admin channel, for the embedded database: PGlite is
// PostgreSQL inside the server's own process, so while the server runs no other
// process may open its files, and `npm run admin` asks the server to run the
// command instead. The channel is a Unix socket in <data dir>/admin/ (a directory
// of mode 0700, the socket 0600): it is never on the network, and only the user
// the server runs as can reach it. Each request must also carry the credential the
// server writes to <data dir>/admin/credential (mode 0600) at every start, so a
// socket whose permissions were loosened still admits nobody without the file.
// One JSON line in, one JSON line out, per connection.

export const NO_SERVER = Symbol("no server");
// Room for an import-keys file (the CLI refuses bigger ones before sending).
export const MAX_REQUEST_BYTES = 64 * 1024 * 1024;
const IDLE_MS = 10_000;
// Unix socket paths are limited to about 108 bytes.
const MAX_SOCKET_PATH = 100;

export function adminPaths(dataDir: string) {
  const dir = path.join(dataDir, "admin");
  return { dir, socket: path.join(dir, "admin.sock"), credential: path.join(dir, "credential") };
}

const Request = z.object({ credential: z.string(), command: z.enum(COMMAND_NAMES), input: z.unknown().optional() });

const Inputs = {
  createPlatformKey: z.object({ name: z.string(), scopes: z.array(z.string()), expiresAt: z.string().nullish() }),
  listPlatformKeys: z.unknown(),
  revokePlatformKey: z.object({ id: z.string(), reason: z.string().nullish() }),
  createAdmin: z.object({ email: z.string(), name: z.string(), password: z.string() }),
  verifyAudit: z.unknown(),
  importKeys: z.object({ text: z.string() }),
  exportWorkspace: z.object({ slug: z.string(), withoutHashes: z.boolean().optional() }),
  rotateMasterKey: z.object({ key: z.string(), previous: z.array(z.string()).optional() }),
} satisfies Record<(typeof COMMAND_NAMES)[number], z.ZodType>;

const digest = (value: string) => hash("sha256", value, "buffer");

/** What the channel answers: the command's result, or a failure nobody expected (logged by the server). */
export type AdminReply = Result<unknown> | { ok: false; error: { code: "INTERNAL_SERVER_ERROR"; message: string } };

export interface AdminChannel {
  close(): Promise<void>;
}

/** Opens the channel for a server holding the embedded database in `dataDir`; null when it cannot. */
export async function openAdminChannel(
  dataDir: string,
  commands: OperatorCommands,
  logger: Logger,
): Promise<AdminChannel | null> {
  const paths = adminPaths(dataDir);
  if (Buffer.byteLength(paths.socket) > MAX_SOCKET_PATH) {
    logger.warn(
      { path: paths.socket },
      "data directory path too long for the local admin channel; stop the server to run admin commands",
    );
    return null;
  }
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  chmodSync(paths.dir, 0o700);
  // Left by a server that did not stop cleanly: this process holds the database
  // lock, so no live server owns it.
  rmSync(paths.socket, { force: true });
  const credential = randomBytes(32).toString("base64url");
  const expected = digest(credential);
  writeFileSync(paths.credential, `${credential}\n`, { mode: 0o600 });
  chmodSync(paths.credential, 0o600);

  const answer = async (line: string): Promise<AdminReply> => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return fail("validation_failed", "request: not JSON", "request");
    }
    const request = validate(Request, parsed);
    if (!request.ok) return request;
    const { command, input } = request.value;
    if (!timingSafeEqual(digest(request.value.credential), expected)) {
      logger.warn({ command }, "refused a local admin command: wrong credential");
      return fail("authentication_required", "Wrong local admin credential: read it from the server's data directory.");
    }
    const checked = validate(Inputs[command], input);
    if (!checked.ok) return checked;
    logger.info({ command }, "local admin command");
    return (commands[command] as (input: unknown) => Promise<Result<unknown>>)(checked.value);
  };

  const server = net.createServer((socket) => {
    const chunks: string[] = [];
    let size = 0;
    socket.setEncoding("utf8");
    socket.setTimeout(IDLE_MS, () => socket.destroy());
    socket.on("error", () => socket.destroy());
    socket.on("data", (chunk: string) => {
      // Only the new chunk is searched: a large request is not rescanned per chunk.
      const end = chunk.indexOf("\n");
      chunks.push(end === -1 ? chunk : chunk.slice(0, end));
      size += chunk.length;
      if (end === -1 && size <= MAX_REQUEST_BYTES) return;
      socket.removeAllListeners("data");
      // A command may run longer than the idle limit (an import of many keys).
      socket.setTimeout(0);
      const line = end === -1 ? "" : chunks.join("");
      const reply: Promise<AdminReply> =
        end === -1 ? Promise.resolve(fail("validation_failed", "request: too large", "request")) : answer(line);
      void reply
        .catch((error: unknown): AdminReply => {
          logger.error({ err: error }, "local admin command failed");
          return {
            ok: false,
            error: { code: "INTERNAL_SERVER_ERROR", message: "The command failed unexpectedly; see the server's log." },
          };
        })
        .then((result) => socket.end(`${JSON.stringify(result)}\n`));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(paths.socket, () => resolve());
  });
  chmodSync(paths.socket, 0o600);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        rmSync(paths.socket, { force: true });
        rmSync(paths.credential, { force: true });
      }),
  };
}

/** Runs a command in the server holding `dataDir`, or NO_SERVER when none is listening there. */
export async function callAdminChannel(
  dataDir: string,
  command: (typeof COMMAND_NAMES)[number],
  input: unknown,
): Promise<AdminReply | typeof NO_SERVER> {
  const paths = adminPaths(dataDir);
  if (!existsSync(paths.socket)) return NO_SERVER;
  let credential: string;
  try {
    credential = readFileSync(paths.credential, "utf8").trim();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    throw new Error(`cannot read ${paths.credential} (${code}): run this as the user the server runs as`);
  }
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(paths.socket);
    let reply = "";
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.write(`${JSON.stringify({ credential, command, input })}\n`));
    socket.on("data", (chunk: string) => {
      reply += chunk;
    });
    socket.on("end", () => {
      try {
        resolve(JSON.parse(reply) as AdminReply);
      } catch {
        reject(new Error("the server's admin channel answered something that is not JSON"));
      }
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      // A socket file without a server behind it: the server stopped without cleaning up.
      if (error.code === "ECONNREFUSED" || error.code === "ENOENT") resolve(NO_SERVER);
      else reject(error);
    });
  });
}
