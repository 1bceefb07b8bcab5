import { connect, createServer, type Socket } from "node:net";

// A TCP proxy in front of PostgreSQL that can lose one answer: armed with a piece of
// SQL, it lets the next statement containing it through, and then the rest of its
// transaction, until PostgreSQL says the transaction is over (ReadyForQuery, idle:
// committed, alone or by COMMIT); it drops that answer and cuts the connection. The
// client sees its connection fail with the change already made — the "written but
// never acknowledged" case no kill of the client can produce.

export interface CuttingProxy {
  port: number;
  /**
   * Cut the connection when the transaction of the next statement containing `sql`
   * has committed ("committed"), or as soon as that statement is answered, inside its
   * still-open transaction, which PostgreSQL then rolls back ("answered").
   */
  arm(sql: string, when: "committed" | "answered"): void;
  /** How many answers were dropped so far. */
  cuts(): number;
  close(): Promise<void>;
}

/** ReadyForQuery ('Z', length 5) with status 'I': no transaction open any more. */
const IDLE = Buffer.from([0x5a, 0, 0, 0, 5, 0x49]);

export async function startProxy(target: { host: string; port: number }): Promise<CuttingProxy> {
  let armed: Buffer | null = null;
  let armedWhen: "committed" | "answered" = "committed";
  let cuts = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    sockets.add(client).add(upstream);
    let doomed: "committed" | "answered" | null = null;
    client.on("data", (chunk: Buffer) => {
      if (armed && chunk.includes(armed)) {
        armed = null;
        doomed = armedWhen;
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (!doomed || (doomed === "committed" && !chunk.includes(IDLE))) {
        client.write(chunk);
        return;
      }
      cuts++;
      client.destroy();
      upstream.destroy();
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", close).on("close", close);
    upstream.on("error", close).on("close", close);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (typeof address !== "object" || !address) throw new Error("the proxy has no port");
  return {
    port: address.port,
    arm: (sql, when) => {
      armed = Buffer.from(sql);
      armedWhen = when;
    },
    cuts: () => cuts,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
