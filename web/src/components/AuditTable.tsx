import type { AuditEventsQuery } from "@keyward/sdk";

type AuditEvent = AuditEventsQuery["auditEvents"]["edges"][number]["node"];

const when = (iso: string) => new Date(iso).toLocaleString();

/** The details of a change, one line (the server never puts secrets in them). */
function summary(data: unknown): string {
  if (!data || typeof data !== "object") return "";
  return Object.entries(data as Record<string, unknown>)
    .map(([key, value]) => `${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(", ");
}

/** Audit events as a table (cards at phone width, like the keys table). */
export function AuditTable({
  events,
  names,
  broken = null,
}: {
  events: AuditEvent[];
  names: Map<string, string>;
  /** The event the hash chain check stopped at, marked where it appears. */
  broken?: string | null;
}) {
  return (
    <div className="table-wrap">
      <table className="keys audit">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Action</th>
            <th scope="col">Actor</th>
            <th scope="col">Target</th>
            <th scope="col">Details</th>
            <th scope="col">IP</th>
          </tr>
        </thead>
        <tbody>
          {events.map((event) => (
            <tr key={event.id} className={event.id === broken ? "broken" : undefined}>
              <td data-label="When">{when(event.createdAt)}</td>
              <td data-label="Action">
                <span>
                  <code>{event.action}</code>
                  {event.id === broken && <span className="badge bad">chain broken here</span>}
                </span>
              </td>
              <td data-label="Actor">
                <span>
                  {event.actorType}
                  {event.actorId && (
                    <span className={names.has(event.actorId) ? "" : "muted id"}>
                      {" "}
                      {names.get(event.actorId) ?? event.actorId}
                    </span>
                  )}
                </span>
              </td>
              <td data-label="Target">
                <span>
                  {event.targetType}
                  {event.targetId && <span className="muted id"> {event.targetId}</span>}
                </span>
              </td>
              <td data-label="Details" className="details">
                {summary(event.data)}
              </td>
              <td data-label="IP">{event.ip ?? "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
