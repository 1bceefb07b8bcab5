import type { AuditEventsQuery, KeywardError } from "@keyward/sdk";
import { useCallback, useEffect, useState } from "react";
import type { Membership } from "../App";
import { api, asKeywardError } from "../api";
import { AuditTable } from "../components/AuditTable";
import { ErrorNotice } from "../components/ErrorNotice";
import { Pager } from "../components/Pager";
import { canManageMembers } from "../roles";

const PAGE = 25;

/**
 * A workspace's audit log, newest first, for owners and admins. The API pages it but
 * takes no filter arguments, so the filters narrow the page on screen and say so.
 */
export function AuditPage({ membership }: { membership: Membership }) {
  const workspaceId = membership.workspace.id;
  const admin = canManageMembers(membership.role);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [data, setData] = useState<AuditEventsQuery["auditEvents"] | null>(null);
  const [error, setError] = useState<KeywardError | null>(null);
  const [action, setAction] = useState("");
  const [actor, setActor] = useState("");
  const [names, setNames] = useState<Map<string, string>>(new Map());
  const after = cursors[cursors.length - 1] ?? null;

  const load = useCallback(async () => {
    setError(null);
    setData(null);
    try {
      const { auditEvents } = await api.auditEvents({ workspaceId, first: PAGE, ...(after ? { after } : {}) });
      setData(auditEvents);
    } catch (caught) {
      setError(asKeywardError(caught));
    }
  }, [workspaceId, after]);

  useEffect(() => {
    if (admin) void load();
  }, [load, admin]);

  // People by name rather than id; without the list the ids still say who.
  useEffect(() => {
    if (!admin) return;
    api
      .workspaceMembers({ id: workspaceId })
      .then(({ workspace }) => setNames(new Map(workspace?.members.map((m) => [m.user.id, m.user.name]))))
      .catch(() => undefined);
  }, [workspaceId, admin]);

  if (!admin) {
    return (
      <section className="stack">
        <h1>Audit log</h1>
        <p className="empty">Only owners and admins of {membership.workspace.name} can read its audit log.</p>
      </section>
    );
  }

  const events = data?.edges.map((e) => e.node) ?? [];
  const actions = [...new Set(events.map((e) => e.action))].sort();
  const actors = [...new Set(events.map((e) => e.actorType))].sort();
  const shown = events.filter((e) => (!action || e.action === action) && (!actor || e.actorType === actor));

  return (
    <section className="stack">
      <h1>Audit log</h1>
      <p className="muted">Every change to this workspace, newest first. Rows are append-only and hash-chained.</p>
      <div className="row filters">
        <label>
          Action{" "}
          <select value={action} onChange={(event) => setAction(event.target.value)}>
            <option value="">All on this page</option>
            {actions.map((a) => (
              <option key={a}>{a}</option>
            ))}
          </select>
        </label>
        <label>
          Actor{" "}
          <select value={actor} onChange={(event) => setActor(event.target.value)}>
            <option value="">All on this page</option>
            {actors.map((a) => (
              <option key={a}>{a}</option>
            ))}
          </select>
        </label>
      </div>
      <ErrorNotice error={error} />
      {!data && !error && <p className="loading">Loading audit events…</p>}
      {data && events.length === 0 && <p className="empty">No audit events yet.</p>}
      {data && events.length > 0 && shown.length === 0 && (
        <p className="empty">No event on this page matches the filters.</p>
      )}
      {shown.length > 0 && <AuditTable events={shown} names={names} />}
      {data && events.length > 0 && (
        <Pager
          totalCount={data.totalCount}
          noun="event"
          cursors={cursors}
          setCursors={setCursors}
          pageInfo={data.pageInfo}
          back="Newer"
          forward="Older"
        />
      )}
    </section>
  );
}
