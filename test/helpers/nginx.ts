import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort, waitFor } from "./processes";

// A real nginx for end-to-end tests, run by the test as the current user: its
// config, pid, logs and temp files in a directory of its own, in the foreground
// (`daemon off`, one process), stopped afterwards.

const CANDIDATES = ["nginx", "/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"];

/** The nginx binary, or an error saying how to install it: this test must not be skipped silently. */
export function findNginx(): string {
  for (const candidate of CANDIDATES) {
    const probe = spawnSync(candidate, ["-V"], { encoding: "utf8" });
    if (probe.status !== 0) continue;
    if (!probe.stderr.includes("http_auth_request_module")) {
      throw new Error(`${candidate} was built without http_auth_request_module; install Debian's nginx package`);
    }
    return candidate;
  }
  throw new Error(
    "nginx is not installed, and test/e2e/nginx.test.ts needs it: `apt-get install -y nginx` (Debian; .ci/run does this)",
  );
}

export interface Nginx {
  url: string;
  /** nginx's error log so far (for failure messages). */
  errors(): string;
  stop(): Promise<void>;
}

/** Starts nginx with `http { … }` built from the given server block (PORT is replaced by its port). */
export async function startNginx(serverBlock: (port: number) => string): Promise<Nginx> {
  const binary = findNginx();
  const dir = mkdtempSync(path.join(tmpdir(), "keyward-nginx-"));
  const port = await freePort();
  const temp = (name: string) => path.join(dir, name);
  const conf = `
daemon off;
master_process off;
pid ${temp("nginx.pid")};
error_log ${temp("error.log")} warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${temp("client_body")};
  proxy_temp_path ${temp("proxy")};
  fastcgi_temp_path ${temp("fastcgi")};
  uwsgi_temp_path ${temp("uwsgi")};
  scgi_temp_path ${temp("scgi")};
  ${serverBlock(port)}
}
`;
  writeFileSync(temp("nginx.conf"), conf);
  const child = spawn(binary, ["-p", dir, "-e", temp("error.log"), "-c", temp("nginx.conf")], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const errors = () => {
    const log = temp("error.log");
    return output + (existsSync(log) ? readFileSync(log, "utf8") : "");
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}):\n${errors()}`);
        await fetch(`${url}/__nginx_ready`);
        return true;
      },
      10_000,
      errors,
    );
  } catch (error) {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    errors,
    stop: async () => {
      if (child.exitCode === null) {
        // SIGQUIT: graceful shutdown.
        child.kill("SIGQUIT");
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
