import type { AudiencesQuery, KeywardError } from "@keyward/sdk";
import { type FormEvent, useEffect, useRef, useState } from "react";
import { api, asKeywardError } from "../api";
import { ErrorNotice } from "./ErrorNotice";

type Audience = AudiencesQuery["audiences"][number];

interface Props {
  audience: Audience;
  /** Its children keep it as their parent under the new name: worth saying when it has any. */
  hasChildren: boolean;
  onCancel: () => void;
  onRenamed: (name: string) => Promise<void>;
}

/**
 * Renaming in place of the audience's row. The name is checked by the server only, so
 * a bad or taken name answers its catalog error (validation_failed, with its docUrl).
 */
export function RenameAudience({ audience, hasChildren, onCancel, onRenamed }: Props) {
  const [error, setError] = useState<KeywardError | null>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    input.current?.select();
  }, []);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const name = String(new FormData(event.currentTarget).get("name") ?? "").trim();
    setError(null);
    setBusy(true);
    try {
      const { renameAudience } = await api.renameAudience({ input: { id: audience.id, name } });
      await onRenamed(renameAudience.name);
    } catch (caught) {
      setError(asKeywardError(caught));
      setBusy(false);
    }
  }

  return (
    <form
      className="stack tight rename"
      onSubmit={submit}
      onKeyDown={(event) => {
        if (event.key === "Escape") onCancel();
      }}
      aria-label={`Rename ${audience.name}`}
    >
      <label>
        New name for {audience.name}
        <input ref={input} name="name" required maxLength={64} defaultValue={audience.name} autoComplete="off" />
      </label>
      <span className="muted">
        Audience tokens naming “{audience.name}” stop working{hasChildren ? "; its children stay under it" : ""}.
      </span>
      <ErrorNotice error={error} />
      <span className="row end">
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" disabled={busy}>
          Save name
        </button>
      </span>
    </form>
  );
}
