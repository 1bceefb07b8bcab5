// The floor: the least any verification server must do per request — parse the
// JSON body, SHA-256 the key, look it up in a Map, answer JSON. No GraphQL, no
// auth, no limits. Keyward's figures are read against this, measured in the same run.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";

const [hashesFile, port] = process.argv.slice(2);
const keys = new Map<string, { id: string; revoked: boolean }>(JSON.parse(readFileSync(hashesFile ?? "", "utf8")));

createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    let key = "";
    try {
      key = JSON.parse(Buffer.concat(chunks).toString("utf8")).variables.input.key;
    } catch {
      res.writeHead(400).end();
      return;
    }
    const record = keys.get(createHash("sha256").update(key).digest("hex"));
    const body = JSON.stringify({
      data: { verifyApiKey: { valid: Boolean(record && !record.revoked), keyId: record?.id ?? null } },
    });
    res.writeHead(200, { "content-type": "application/json" }).end(body);
  });
}).listen(Number(port), "127.0.0.1", () => process.send?.("ready"));
