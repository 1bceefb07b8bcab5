import type { KeywardError, Role } from "@keyward/sdk";
import { type FormEvent, useState } from "react";
import { api, asKeywardError } from "../api";
import { grantableRoles, mayManageRole } from "../roles";
import { ErrorNotice } from "./ErrorNotice";
import type { Member } from "./RemoveMemberModal";

interface Props {
  workspaceId: string;
  member: Member;
  /** The caller's role: which rows they may change, and to what. */
  viewerRole: Role;
  self: boolean;
  onSaved: () => Promise<void>;
  onRemove: () => void;
}

/**
 * One member. A manager sees a role select and Remove only on rows the server would let
 * them change (an ADMIN leaves OWNERs alone); everyone else sees the role as a badge.
 * The role is saved with a button rather than on change, so a slip of the select does
 * not demote anyone; the last OWNER's refusal is the server's, shown with its catalog link.
 */
export function MemberRow({ workspaceId, member, viewerRole, self, onSaved, onRemove }: Props) {
  const [role, setRole] = useState<Role>(member.role);
  const [error, setError] = useState<KeywardError | null>(null);
  const [busy, setBusy] = useState(false);
  const name = (
    <span className="member-name">
      <strong>{member.user.name}</strong>
      {self && <span className="badge ok">you</span>} <span className="muted">{member.user.email}</span>
    </span>
  );
  if (!mayManageRole(viewerRole, member.role)) {
    return (
      <li>
        {name}
        <span className="badge">{member.role}</span>
      </li>
    );
  }

  async function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      await api.updateMemberRole({ input: { workspaceId, userId: member.user.id, role } });
      await onSaved();
    } catch (caught) {
      setError(asKeywardError(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <li className="member">
      {name}
      <form className="row member-controls" onSubmit={save}>
        <label className="visually-hidden" htmlFor={`role-${member.id}`}>
          Role of {member.user.name}
        </label>
        <select id={`role-${member.id}`} value={role} onChange={(event) => setRole(event.target.value as Role)}>
          {grantableRoles(viewerRole).map((option) => (
            <option key={option} value={option}>
              {option}
            </option>
          ))}
        </select>
        <button
          type="submit"
          className="secondary"
          disabled={busy || role === member.role}
          aria-label={`Save role of ${member.user.name}`}
        >
          Save
        </button>
        <button
          type="button"
          className="danger"
          onClick={onRemove}
          aria-label={self ? "Leave workspace" : `Remove ${member.user.name}`}
        >
          {self ? "Leave" : "Remove"}
        </button>
      </form>
      <ErrorNotice error={error} />
    </li>
  );
}
