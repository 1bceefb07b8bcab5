import type { Membership } from "../App";
import type { SessionUser } from "../api";
import type { Route } from "../route";

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
  const role = memberships.find((m) => m.workspace.slug === slug)?.role;
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
          <a
            href={`/dashboard/w/${slug}/keys`}
            aria-current={route.page === "keys" ? "page" : undefined}
            onClick={(event) => {
              event.preventDefault();
              go({ page: "keys", slug });
            }}
          >
            API keys
          </a>
          {role !== "MEMBER" && (
            <a
              href={`/dashboard/w/${slug}/members`}
              aria-current={route.page === "members" ? "page" : undefined}
              onClick={(event) => {
                event.preventDefault();
                go({ page: "members", slug });
              }}
            >
              Members
            </a>
          )}
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
