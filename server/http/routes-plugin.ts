import type { Plugin } from "graphql-yoga";
import { renderErrorDocs } from "../docs";

// Plain HTTP routes served beside /graphql, through the same Yoga instance so that
// tests reach them with yoga.fetch too.

export function useRoutes(options: { ping: () => Promise<boolean> }): Plugin {
  const docs = renderErrorDocs();
  return {
    async onRequest({ url, request, endResponse, fetchAPI }) {
      if (request.method !== "GET" && request.method !== "HEAD") return;
      const json = (status: number, body: unknown) =>
        new fetchAPI.Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
      switch (url.pathname) {
        case "/healthz":
          endResponse(json(200, { status: "ok" }));
          return;
        case "/readyz": {
          const up = await options.ping();
          endResponse(json(up ? 200 : 503, { status: up ? "ready" : "unavailable", database: up ? "up" : "down" }));
          return;
        }
        case "/docs/errors":
          endResponse(new fetchAPI.Response(docs, { headers: { "content-type": "text/html; charset=utf-8" } }));
          return;
      }
    },
  };
}
