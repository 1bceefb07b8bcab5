import { catalog, errorCodes } from "./errors";

// /docs/errors, generated from the catalog so the page and the codes cannot drift.

const escapeHtml = (text: string) =>
  text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] ?? c);

const code = (text: string) => escapeHtml(text).replace(/`([^`]+)`/g, "<code>$1</code>");

export function renderErrorDocs(): string {
  const rows = errorCodes
    .map((c) => {
      const entry = catalog[c];
      return `<section id="${c}"><h2><a href="#${c}">${c}</a> <small>HTTP ${entry.status}</small></h2>
<p><strong>${escapeHtml(entry.title)}.</strong> ${code(entry.description)}</p></section>`;
    })
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Keyward error codes</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#222}
h2{font-size:1.1rem;margin-bottom:.2rem}small{color:#666;font-weight:normal}section{border-top:1px solid #ddd;padding:.5rem 0}
code{background:#f3f3f3;padding:0 .2rem}</style></head>
<body><h1>Keyward error codes</h1>
<p>Every GraphQL error from Keyward carries <code>extensions.code</code> (one of the codes below),
<code>extensions.docUrl</code> (a link to its entry here) and <code>extensions.http.status</code>.
Unexpected failures answer <code>INTERNAL_SERVER_ERROR</code> with a <code>requestId</code> to quote.</p>
${rows}
<section id="INTERNAL_SERVER_ERROR"><h2><a href="#INTERNAL_SERVER_ERROR">INTERNAL_SERVER_ERROR</a> <small>HTTP 500</small></h2>
<p><strong>Unexpected error.</strong> Something failed on the server. Nothing about the cause is returned;
it is logged under the <code>requestId</code> given in the error (also the <code>X-Request-Id</code> header).
Retry later, and quote the request id when reporting it.</p></section>
</body></html>
`;
}
