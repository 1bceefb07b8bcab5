// The footer of a paged list: how many there are, and buttons back and forward
// through the cursors already visited (the first entry is null, the first page).

interface Props {
  totalCount: number;
  /** Singular noun: "key" → "1 key", "3 keys". */
  noun: string;
  cursors: (string | null)[];
  setCursors: (cursors: (string | null)[]) => void;
  pageInfo: { hasNextPage: boolean; endCursor?: string | null | undefined };
  back: string;
  forward: string;
}

export function Pager({ totalCount, noun, cursors, setCursors, pageInfo, back, forward }: Props) {
  return (
    <div className="row spread">
      <span className="muted">
        {totalCount} {noun}
        {totalCount === 1 ? "" : "s"}
      </span>
      <div className="row">
        <button
          type="button"
          className="secondary"
          disabled={cursors.length === 1}
          onClick={() => setCursors(cursors.slice(0, -1))}
        >
          {back}
        </button>
        <button
          type="button"
          className="secondary"
          disabled={!pageInfo.hasNextPage}
          onClick={() => setCursors([...cursors, pageInfo.endCursor ?? null])}
        >
          {forward}
        </button>
      </div>
    </div>
  );
}
