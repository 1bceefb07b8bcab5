import { request } from "node:http";

/** POSTs JSON in pieces with no Content-Length (chunked): `head`, then `pieces` × 512 KiB of "x", then `tail`. */
export function postChunked(
  url: string,
  parts: { head: string; pieces: number; tail: string },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers: { "content-type": "application/json" } }, (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => {
        text += chunk.toString("utf8");
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    const chunk = "x".repeat(512 * 1024);
    req.write(parts.head);
    for (let i = 0; i < parts.pieces; i++) req.write(chunk);
    req.end(parts.tail);
  });
}
