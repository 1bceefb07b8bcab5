import { useEffect, useState } from "react";

// The app's few pages as paths under /dashboard (the server answers every one of
// them with index.html): /dashboard, /dashboard/w/<slug>/keys, …/members, …/services, …/audit, …/webhooks, …/deploys, …/audiences.

export type Route = { page: "home" } | { page: WorkspacePage; slug: string };
export type WorkspacePage = "keys" | "members" | "services" | "audit" | "webhooks" | "deploys" | "audiences";
const PAGES: WorkspacePage[] = ["keys", "members", "services", "audit", "webhooks", "deploys", "audiences"];

const BASE = "/dashboard";

export function parseRoute(pathname: string): Route {
  const match = /^\/dashboard\/w\/([a-z0-9-]+)\/([a-z]+)\/?$/.exec(pathname);
  const page = PAGES.find((p) => p === match?.[2]);
  if (match?.[1] && page) return { page, slug: match[1] };
  return { page: "home" };
}

export function routePath(route: Route): string {
  return route.page === "home" ? `${BASE}/` : `${BASE}/w/${route.slug}/${route.page}`;
}

export function useRoute(): [Route, (route: Route) => void] {
  const [route, setRoute] = useState(() => parseRoute(window.location.pathname));
  useEffect(() => {
    const onPop = () => setRoute(parseRoute(window.location.pathname));
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);
  const go = (next: Route) => {
    const path = routePath(next);
    if (path !== window.location.pathname) window.history.pushState(null, "", path);
    setRoute(next);
  };
  return [route, go];
}
