import type { KeywardError } from "@keyward/sdk";

/** A failure as the server worded it, with a link to its entry in the error catalog. */
export function ErrorNotice({ error }: { error: KeywardError | null }) {
  if (!error) return null;
  return (
    <div className="error" role="alert">
      <strong>{error.message}</strong>{" "}
      {error.docUrl ? (
        <a href={error.docUrl} target="_blank" rel="noreferrer">
          {error.code}: what this means
        </a>
      ) : (
        <code>{error.code}</code>
      )}
    </div>
  );
}
