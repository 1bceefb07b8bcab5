import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { EdgeAnswer, EdgeRequest } from "../exchange";

// The dashboard's files (web/dist, built by `npm run build`) at /dashboard. Any path
// that is not a file is a page of the app (/dashboard/keys, …) and gets index.html,
// so deep links and reloads work. Every answer carries a Content-Security-Policy that
// allows only this origin's own scripts, styles and requests (the build has no inline
// script) and no framing; Vite's hashed assets are cached for good.

export const DASHBOARD_PATH = "/dashboard";

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".json": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
};

const SAFE_PATH = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** web/dist of this checkout, found from this file whether it runs as TypeScript or compiled. */
export function defaultDashboardDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, "web", "package.json"))) return path.join(dir, "web", "dist");
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve("web", "dist");
    dir = parent;
  }
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Keyward dashboard not built</title></head>
<body><h1>The dashboard is not built yet</h1>
<p>Run <code>npm run build</code> in the Keyward checkout (it builds <code>web/dist</code>), then reload this page.
The API at <code>/graphql</code> works meanwhile.</p></body></html>
`;

export function createDashboardFiles(root: string) {
  const headers = (request: EdgeRequest, type: string, cache: string): Record<string, string> => ({
    "content-type": type,
    "cache-control": cache,
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "x-request-id": request.meta.id,
  });

  async function file(relative: string): Promise<string | null> {
    if (!SAFE_PATH.test(relative) || relative.split("/").some((part) => part.startsWith("."))) return null;
    const full = path.join(root, relative);
    // SAFE_PATH admits no "..", no "%" and no backslash; this states the rule once more.
    if (!full.startsWith(root + path.sep)) return null;
    try {
      return await readFile(full, "utf8");
    } catch {
      return null;
    }
  }

  return async (request: EdgeRequest): Promise<EdgeAnswer | null> => {
    if (request.method !== "GET" && request.method !== "HEAD") return null;
    const relative = request.path === DASHBOARD_PATH ? "" : request.path.slice(DASHBOARD_PATH.length + 1);
    const ext = path.extname(relative);
    const type = TYPES[ext];
    if (relative !== "" && type && ext !== ".html") {
      const body = await file(relative);
      // A missing asset is a 404, not the app: a stale page must not run HTML as script.
      if (body === null)
        return { status: 404, headers: headers(request, "text/plain; charset=utf-8", "no-store"), body: "Not found\n" };
      const hashed = relative.startsWith("assets/");
      return {
        status: 200,
        headers: headers(request, type, hashed ? "public, max-age=31536000, immutable" : "no-cache"),
        body,
      };
    }
    const index = existsSync(root) ? await file("index.html") : null;
    if (index === null) {
      return { status: 503, headers: headers(request, "text/html; charset=utf-8", "no-store"), body: NOT_BUILT };
    }
    return { status: 200, headers: headers(request, "text/html; charset=utf-8", "no-cache"), body: index };
  };
}

/** Whether a path belongs to the dashboard. */
export function isDashboardPath(requestPath: string): boolean {
  return requestPath === DASHBOARD_PATH || requestPath.startsWith(`${DASHBOARD_PATH}/`);
}
