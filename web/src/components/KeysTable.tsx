import type { KeyRow } from "../pages/KeysPage";

const when = (value: unknown) => (value ? new Date(String(value)).toLocaleString() : "—");

const STATUS_CLASS: Record<string, string> = { ACTIVE: "ok", ROLLING: "warn", EXPIRED: "muted", REVOKED: "bad" };

interface Props {
  rows: KeyRow[];
  onRoll: (key: KeyRow) => void;
  onRevoke: (key: KeyRow) => void;
  onUsage: (key: KeyRow) => void;
}

/** The key table; on narrow screens each row becomes a card (styles.css). */
export function KeysTable({ rows, onRoll, onRevoke, onUsage }: Props) {
  return (
    <div className="table-wrap">
      <table className="keys">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Key</th>
            <th scope="col">Type</th>
            <th scope="col">Env</th>
            <th scope="col">Scopes</th>
            <th scope="col">Service</th>
            <th scope="col">Created</th>
            <th scope="col">Last used</th>
            <th scope="col">Expires</th>
            <th scope="col">Status</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((key) => {
            const live = key.status === "ACTIVE";
            return (
              <tr key={key.id}>
                <td data-label="Name">{key.name}</td>
                <td data-label="Key">
                  <code>{key.start}…</code>
                </td>
                <td data-label="Type">{key.type === "SECRET" ? "Secret" : "Publishable"}</td>
                <td data-label="Env">{key.environment}</td>
                <td data-label="Scopes">{key.scopes.length ? key.scopes.join(", ") : "all it may"}</td>
                <td data-label="Service">{key.serviceId ?? "—"}</td>
                <td data-label="Created">{when(key.createdAt)}</td>
                <td data-label="Last used">{key.lastUsedAt ? when(key.lastUsedAt) : "Never"}</td>
                <td data-label="Expires">{key.expiresAt ? when(key.expiresAt) : "Never"}</td>
                <td data-label="Status">
                  <span className={`badge ${STATUS_CLASS[key.status] ?? ""}`}>{key.status}</span>
                </td>
                <td className="actions">
                  <button
                    type="button"
                    className="secondary"
                    onClick={() => onUsage(key)}
                    aria-label={`Usage of ${key.name}`}
                  >
                    Usage
                  </button>
                  {live && (
                    <button
                      type="button"
                      className="secondary"
                      onClick={() => onRoll(key)}
                      aria-label={`Roll ${key.name}`}
                    >
                      Roll
                    </button>
                  )}
                  {key.status !== "REVOKED" && (
                    <button
                      type="button"
                      className="danger icon"
                      onClick={() => onRevoke(key)}
                      aria-label={`Revoke ${key.name}`}
                      title="Revoke"
                    >
                      <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true">
                        <path
                          fill="currentColor"
                          d="M9 3h6l1 2h4v2H4V5h4l1-2zm-3 6h12l-1 12H7L6 9zm4 2v8h2v-8h-2zm4 0v8h2v-8h-2z"
                        />
                      </svg>
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
