import type { Membership } from "../App";
import type { SessionUser } from "../api";
import { canManageKeys, canManageMembers } from "../roles";
import { type Route, routePath, type WorkspacePage } from "../route";

interface LinkProps {
  page: WorkspacePage;
  label: string;
  slug: string;
  route: Route;
  go: (route: Route) => void;
}

/** A real link (it opens in a new tab too) that navigates in place on a plain click. */
function PageLink({ page, label, slug, route, go }: LinkProps) {
  const target: Route = { page, slug };
  return (
    <a
      href={routePath(target)}
      aria-current={route.page === page ? "page" : undefined}
      onClick={(event) => {
        if (event.metaKey || event.ctrlKey || event.shiftKey) return;
        event.preventDefault();
        go(target);
      }}
    >
      {label}
    </a>
  );
}

interface Props {
  user: SessionUser;
  memberships: Membership[];
  route: Route;
  go: (route: Route) => void;
  onSignOut: () => void;
}

/** The top bar: workspace switcher, the workspace's pages, and sign-out. */
export function Header({ user, memberships, route, go, onSignOut }: Props) {
  const slug = route.page === "home" ? "" : route.slug;
  const current = memberships.find((m) => m.workspace.slug === slug);
  const role = current?.role;
  return (
    <header className="topbar">
      <a
        className="brand"
        href="/dashboard/"
        onClick={(event) => {
          event.preventDefault();
          go({ page: "home" });
        }}
      >
        Keyward
      </a>
      <label className="switcher">
        <span className="visually-hidden">Workspace</span>
        <select
          value={slug}
          onChange={(event) => go(event.target.value ? { page: "keys", slug: event.target.value } : { page: "home" })}
        >
          <option value="">All workspaces…</option>
          {memberships.map((m) => (
            <option key={m.workspace.id} value={m.workspace.slug}>
              {m.workspace.name}
            </option>
          ))}
        </select>
      </label>
      {route.page !== "home" && (
        <nav aria-label="Workspace">
          <PageLink page="keys" label="API keys" slug={slug} route={route} go={go} />
          {role !== "MEMBER" && <PageLink page="members" label="Members" slug={slug} route={route} go={go} />}
          {current?.workspace.requireDeploy && canManageKeys(role) && (
            <PageLink page="deploys" label="Deploys" slug={slug} route={route} go={go} />
          )}
          <PageLink page="services" label="Services" slug={slug} route={route} go={go} />
          <PageLink page="audiences" label="Audiences" slug={slug} route={route} go={go} />
          {canManageMembers(role) && <PageLink page="webhooks" label="Webhooks" slug={slug} route={route} go={go} />}
          {canManageMembers(role) && <PageLink page="audit" label="Audit log" slug={slug} route={route} go={go} />}
        </nav>
      )}
      <span className="who" title={user.email}>
        {user.name}
      </span>
      <button type="button" className="secondary" onClick={onSignOut}>
        Sign out
      </button>
    </header>
  );
}
