import type { KeywardError, MeQuery } from "@keyward/sdk";
import { useCallback, useEffect, useState } from "react";
import { api, asKeywardError, type SessionUser, signOut } from "./api";
import { ErrorNotice } from "./components/ErrorNotice";
import { Header } from "./components/Header";
import { AudiencesPage } from "./pages/AudiencesPage";
import { AuditPage } from "./pages/AuditPage";
import { AuthPage } from "./pages/AuthPage";
import { DeploysPage } from "./pages/DeploysPage";
import { HomePage } from "./pages/HomePage";
import { KeysPage } from "./pages/KeysPage";
import { MembersPage } from "./pages/MembersPage";
import { ServicesPage } from "./pages/ServicesPage";
import { WebhooksPage } from "./pages/WebhooksPage";
import { useRoute } from "./route";

export type Membership = NonNullable<MeQuery["me"]>["memberships"][number];

type Session = { state: "loading" } | { state: "out" } | { state: "in"; user: SessionUser; memberships: Membership[] };

/** Who is signed in (from the cookie, via `me`), and which page to show them. */
export function App() {
  const [session, setSession] = useState<Session>({ state: "loading" });
  const [error, setError] = useState<KeywardError | null>(null);
  const [route, go] = useRoute();

  const refresh = useCallback(async () => {
    try {
      const { me } = await api.me();
      setSession(me ? { state: "in", user: me, memberships: me.memberships } : { state: "out" });
    } catch (caught) {
      const failure = asKeywardError(caught);
      // No cookie, or a dead one: the sign-in page, not an error.
      if (failure.code === "authentication_required") setSession({ state: "out" });
      else setError(failure);
    }
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  if (error) return <ErrorNotice error={error} />;
  if (session.state === "loading") return <p className="loading">Loading…</p>;
  if (session.state === "out") return <AuthPage onSignedIn={() => void refresh()} />;

  const membership =
    route.page === "home" ? undefined : session.memberships.find((m) => m.workspace.slug === route.slug);
  return (
    <>
      <Header
        user={session.user}
        memberships={session.memberships}
        route={route}
        go={go}
        onSignOut={async () => {
          await signOut().catch(() => undefined);
          go({ page: "home" });
          setSession({ state: "out" });
        }}
      />
      <main className="page">
        {route.page === "home" || !membership ? (
          <HomePage
            memberships={session.memberships}
            missing={route.page === "home" ? null : route.slug}
            onCreated={async (slug) => {
              await refresh();
              go({ page: "keys", slug });
            }}
            go={go}
          />
        ) : route.page === "keys" ? (
          <KeysPage key={membership.workspace.id} membership={membership} />
        ) : route.page === "members" ? (
          <MembersPage
            key={membership.workspace.id}
            membership={membership}
            userId={session.user.id}
            onOwnMembershipChanged={async (left) => {
              // Home first: the workspace is about to vanish from the list, and its page with it.
              if (left) go({ page: "home" });
              await refresh();
            }}
          />
        ) : route.page === "audit" ? (
          <AuditPage key={membership.workspace.id} membership={membership} />
        ) : route.page === "audiences" ? (
          <AudiencesPage key={membership.workspace.id} membership={membership} />
        ) : route.page === "deploys" ? (
          <DeploysPage key={membership.workspace.id} membership={membership} />
        ) : route.page === "webhooks" ? (
          <WebhooksPage key={membership.workspace.id} membership={membership} />
        ) : (
          <ServicesPage key={membership.workspace.id} membership={membership} />
        )}
      </main>
    </>
  );
}
