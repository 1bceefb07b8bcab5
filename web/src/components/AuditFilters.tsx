import { auditActions } from "@keyward/sdk";
// The audit log's filters. The server applies them to the whole log (not just the
// page shown), so every choice here becomes an argument of auditEvents.

export interface AuditFilterValues {
  action: string;
  actorId: string;
  /** Calendar days (yyyy-mm-dd) in the viewer's time zone; both ends included. */
  from: string;
  to: string;
}

export const NO_FILTERS: AuditFilterValues = { action: "", actorId: "", from: "", to: "" };

/** A local calendar day as the instant it starts (plus `days`). */
function dayStart(day: string, days = 0): string {
  const [year, month, date] = day.split("-").map(Number);
  return new Date(year ?? 1970, (month ?? 1) - 1, (date ?? 1) + days).toISOString();
}

/** The auditEvents arguments: the server's `to` is exclusive, so the last day chosen runs to its end. */
export function filterVariables(values: AuditFilterValues) {
  return {
    ...(values.action ? { action: values.action } : {}),
    ...(values.actorId ? { actorId: values.actorId } : {}),
    ...(values.from ? { from: dayStart(values.from) } : {}),
    ...(values.to ? { to: dayStart(values.to, 1) } : {}),
  };
}

interface Props {
  values: AuditFilterValues;
  onChange: (values: AuditFilterValues) => void;
  members: { id: string; name: string }[];
}

export function AuditFilters({ values, onChange, members }: Props) {
  const set = (field: keyof AuditFilterValues) => (event: { target: { value: string } }) =>
    onChange({ ...values, [field]: event.target.value });
  const active = Object.values(values).some(Boolean);
  return (
    <fieldset className="row filters audit-filters">
      <legend className="visually-hidden">Filter the audit log</legend>
      <label>
        Action
        <select value={values.action} onChange={set("action")}>
          <option value="">All actions</option>
          {auditActions.map((action) => (
            <option key={action}>{action}</option>
          ))}
        </select>
      </label>
      <label>
        Actor
        <select value={values.actorId} onChange={set("actorId")}>
          <option value="">Anyone</option>
          {members.map((member) => (
            <option key={member.id} value={member.id}>
              {member.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        From
        <input type="date" value={values.from} max={values.to || undefined} onChange={set("from")} />
      </label>
      <label>
        To (inclusive)
        <input type="date" value={values.to} min={values.from || undefined} onChange={set("to")} />
      </label>
      <button type="button" className="secondary" disabled={!active} onClick={() => onChange(NO_FILTERS)}>
        Clear filters
      </button>
    </fieldset>
  );
}
