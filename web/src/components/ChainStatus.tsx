import type { AuditChainFault, AuditChainQuery, KeywardError } from "@keyward/sdk";
import { useCallback, useEffect, useState } from "react";
import { api, asKeywardError } from "../api";
import { ErrorNotice } from "./ErrorNotice";

type Status = AuditChainQuery["auditChain"];

const WHY: Record<AuditChainFault, string> = {
  HASH_MISMATCH: "its content no longer matches its hash: it was edited after it was written.",
  BROKEN_LINK:
    "it does not link to the event before it: an earlier event was deleted, inserted or reordered, or this one's link was edited.",
  BROKEN_NEXT_LINK: "the event after it does not link back to it: a later event was deleted or altered.",
};

const when = (iso: string) => new Date(iso).toLocaleString();

/** The workspace's audit events checked against the hash chain, re-run on demand. */
export function ChainStatus({ workspaceId, onStatus }: { workspaceId: string; onStatus: (s: Status | null) => void }) {
  const [status, setStatus] = useState<Status | null>(null);
  const [error, setError] = useState<KeywardError | null>(null);
  const [checking, setChecking] = useState(true);

  const check = useCallback(async () => {
    setChecking(true);
    setError(null);
    try {
      const { auditChain } = await api.auditChain({ workspaceId });
      setStatus(auditChain);
      onStatus(auditChain);
    } catch (caught) {
      setError(asKeywardError(caught));
      onStatus(null);
    } finally {
      setChecking(false);
    }
  }, [workspaceId, onStatus]);

  useEffect(() => {
    void check();
  }, [check]);

  const again = (
    <button type="button" className="secondary" disabled={checking} onClick={() => void check()}>
      {checking ? "Checking…" : "Check again"}
    </button>
  );

  return (
    <section className="chain-status" aria-labelledby="chain-title" aria-busy={checking}>
      <h2 id="chain-title" className="visually-hidden">
        Hash chain
      </h2>
      {error && (
        <div className="stack tight">
          <ErrorNotice error={error} />
          <div>{again}</div>
        </div>
      )}
      {!status && !error && <p className="loading">Checking the hash chain…</p>}
      {status?.ok && !error && (
        <div className="chain ok" role="status">
          <span className="badge ok">Verified</span>
          <span>
            Hash chain intact: {status.checkedEvents} event{status.checkedEvents === 1 ? "" : "s"} checked at{" "}
            {when(status.checkedAt)}.
          </span>
          {again}
        </div>
      )}
      {status && !status.ok && !error && (
        <div className="chain broken" role="alert">
          <span className="badge bad">Broken</span>
          <span>
            <strong>The audit log has been tampered with.</strong> Event <code>{status.brokenEventId}</code>:{" "}
            {status.reason ? WHY[status.reason] : "does not fit the chain."} {status.checkedEvents} earlier event
            {status.checkedEvents === 1 ? "" : "s"} checked intact at {when(status.checkedAt)}
            {status.reason && (
              <>
                {" "}
                (<code>{status.reason.toLowerCase()}</code>)
              </>
            )}
            .
          </span>
          {again}
        </div>
      )}
    </section>
  );
}
