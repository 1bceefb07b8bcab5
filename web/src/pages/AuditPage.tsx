import type { AuditChainQuery, AuditEventsQuery, KeywardError } from "@keyward/sdk";
import { useCallback, useEffect, useState } from "react";
import type { Membership } from "../App";
import { api, asKeywardError } from "../api";
import { AuditFilters, type AuditFilterValues, filterVariables, NO_FILTERS } from "../components/AuditFilters";
import { AuditTable } from "../components/AuditTable";
import { ChainStatus } from "../components/ChainStatus";
import { ErrorNotice } from "../components/ErrorNotice";
import { Pager } from "../components/Pager";
import { canManageMembers } from "../roles";

const PAGE = 25;

/**
 * A workspace's audit log, newest first, for owners and admins: filtered by the
 * server (so paging and the count follow the filters), under the hash chain's status.
 */
export function AuditPage({ membership }: { membership: Membership }) {
  const workspaceId = membership.workspace.id;
  const admin = canManageMembers(membership.role);
  const [filters, setFilters] = useState<AuditFilterValues>(NO_FILTERS);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [data, setData] = useState<AuditEventsQuery["auditEvents"] | null>(null);
  const [error, setError] = useState<KeywardError | null>(null);
  const [members, setMembers] = useState<{ id: string; name: string }[]>([]);
  const [chain, setChain] = useState<AuditChainQuery["auditChain"] | null>(null);
  const after = cursors[cursors.length - 1] ?? null;

  const load = useCallback(async () => {
    setError(null);
    setData(null);
    try {
      const { auditEvents } = await api.auditEvents({
        workspaceId,
        first: PAGE,
        ...(after ? { after } : {}),
        ...filterVariables(filters),
      });
      setData(auditEvents);
    } catch (caught) {
      setError(asKeywardError(caught));
    }
  }, [workspaceId, after, filters]);

  useEffect(() => {
    if (admin) void load();
  }, [load, admin]);

  // People by name rather than id, and the actor filter's choices; without the list the ids still say who.
  useEffect(() => {
    if (!admin) return;
    api
      .workspaceMembers({ id: workspaceId })
      .then(({ workspace }) =>
        setMembers(
          (workspace?.members ?? [])
            .map((m) => ({ id: m.user.id, name: m.user.name }))
            .sort((x, y) => x.name.localeCompare(y.name)),
        ),
      )
      .catch(() => undefined);
  }, [workspaceId, admin]);

  const filter = useCallback((next: AuditFilterValues) => {
    setFilters(next);
    setCursors([null]);
  }, []);

  if (!admin) {
    return (
      <section className="stack">
        <h1>Audit log</h1>
        <p className="empty">Only owners and admins of {membership.workspace.name} can read its audit log.</p>
      </section>
    );
  }

  const events = data?.edges.map((e) => e.node) ?? [];
  const filtered = Object.values(filters).some(Boolean);
  const names = new Map(members.map((m) => [m.id, m.name]));

  return (
    <section className="stack">
      <h1>Audit log</h1>
      <p className="muted">Every change to this workspace, newest first. Rows are append-only and hash-chained.</p>
      <ChainStatus workspaceId={workspaceId} onStatus={setChain} />
      <AuditFilters values={filters} onChange={filter} members={members} />
      <ErrorNotice error={error} />
      {!data && !error && <p className="loading">Loading audit events…</p>}
      {data && events.length === 0 && (
        <p className="empty">{filtered ? "No event matches these filters." : "No audit events yet."}</p>
      )}
      {events.length > 0 && <AuditTable events={events} names={names} broken={chain?.brokenEventId ?? null} />}
      {data && events.length > 0 && (
        <Pager
          totalCount={data.totalCount}
          noun={filtered ? "matching event" : "event"}
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
