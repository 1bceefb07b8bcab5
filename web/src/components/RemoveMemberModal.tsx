import type { KeywardError, WorkspaceMembersQuery } from "@keyward/sdk";
import { type FormEvent, useState } from "react";
import { api, asKeywardError } from "../api";
import { ErrorNotice } from "./ErrorNotice";
import { Modal } from "./Modal";

export type Member = NonNullable<WorkspaceMembersQuery["workspace"]>["members"][number];

interface Props {
  workspaceId: string;
  workspaceName: string;
  member: Member;
  /** The member is the signed-in user: removing them is leaving the workspace. */
  self: boolean;
  onClose: () => void;
  onRemoved: () => Promise<void>;
}

/**
 * Removing someone is confirmed, and leaving (the API lets a manager remove
 * themselves) says plainly that the workspace disappears from the caller's list and
 * only another manager can add them back. A refusal (the last OWNER) shows its catalog
 * error here.
 */
export function RemoveMemberModal({ workspaceId, workspaceName, member, self, onClose, onRemoved }: Props) {
  const [error, setError] = useState<KeywardError | null>(null);
  const [busy, setBusy] = useState(false);
  const title = self ? `Leave ${workspaceName}?` : `Remove ${member.user.name}?`;

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      await api.removeMember({ input: { workspaceId, userId: member.user.id } });
      await onRemoved();
    } catch (caught) {
      setError(asKeywardError(caught));
      setBusy(false);
    }
  }

  return (
    <Modal title={title} onClose={onClose}>
      <form className="stack" onSubmit={submit} aria-label={title}>
        {self ? (
          <p>
            You are removing <strong>yourself</strong> ({member.role}) from {workspaceName}. You lose access to its
            keys, members and settings at once, and only an owner or admin can add you back.
          </p>
        ) : (
          <p>
            {member.user.name} <span className="muted">({member.user.email})</span> loses access to {workspaceName} at
            once; adding them again gives it back.
          </p>
        )}
        <ErrorNotice error={error} />
        <div className="row end">
          <button type="button" className="secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="danger" disabled={busy}>
            {self ? "Leave workspace" : `Remove ${member.user.name}`}
          </button>
        </div>
      </form>
    </Modal>
  );
}
