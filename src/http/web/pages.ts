/**
 * The sign-in pages, rendered on the server as plain HTML forms (no script; they work without
 * JavaScript). Everything that came from outside is escaped; the only stylesheet is ours.
 */
export interface DatasetColumns {
  readonly name: string;
  readonly columns: readonly { readonly name: string; readonly type: string }[];
}

export interface TokenRow {
  readonly name: string;
  readonly label?: string;
  readonly roles: readonly string[];
  readonly expires_at: string | null;
  readonly state: string;
}

export interface AccessView {
  readonly subject: string;
  readonly issuer: string;
  readonly roles: readonly string[];
  readonly datasets: readonly DatasetColumns[];
  readonly tokens: readonly TokenRow[];
  readonly csrf: string;
  readonly maxTokenDays: number;
  readonly message?: string;
}

export const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export const STYLESHEET = `body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #d0d7de;padding:.35rem .5rem;text-align:left;vertical-align:top}
code,pre{font-family:ui-monospace,monospace;font-size:.9rem}pre{background:#f6f8fa;padding:.75rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
.token{background:#fff8c5;border:1px solid #d4a72c}.note{color:#57606a}.message{background:#ddf4ff;padding:.5rem}
form.inline{display:inline}button{cursor:pointer}label{margin-right:1rem}`;

function layout(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)} · flightgate</title><link rel="stylesheet" href="/web.css"></head><body>${body}</body></html>`;
}

export function loginChooserPage(logins: readonly { readonly index: number; readonly label: string }[]): string {
  const items = logins.map((l) => `<li><a href="/login?idp=${l.index}">Sign in with ${escapeHtml(l.label)}</a></li>`).join('');
  return layout('Sign in', `<h1>Sign in to flightgate</h1><ul>${items}</ul>`);
}

export function messagePage(title: string, message: string, again = true): string {
  return layout(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>${again ? '<p><a href="/login">Sign in again</a></p>' : ''}`);
}

const hidden = (csrf: string): string => `<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">`;

export function accessPage(v: AccessView): string {
  const datasets = v.datasets.length
    ? `<table id="datasets"><tr><th>dataset</th><th>columns</th></tr>${v.datasets
        .map((d) => `<tr><td><code>${escapeHtml(d.name)}</code></td><td>${d.columns.map((c) => `<code>${escapeHtml(c.name)}</code> ${escapeHtml(c.type)}`).join('<br>')}</td></tr>`)
        .join('')}</table>`
    : '<p class="note">Your roles let you read no dataset yet.</p>';
  const tokens = v.tokens.length
    ? `<table id="tokens"><tr><th>name</th><th>roles</th><th>expires</th><th>state</th><th></th></tr>${v.tokens
        .map(
          (t) =>
            `<tr><td>${escapeHtml(t.label ?? t.name)}</td><td>${escapeHtml(t.roles.join(', '))}</td><td>${escapeHtml(t.expires_at ?? 'never')}</td><td>${escapeHtml(t.state)}</td><td>${
              t.state === 'active'
                ? `<form class="inline" method="post" action="/access/tokens/revoke">${hidden(v.csrf)}<input type="hidden" name="name" value="${escapeHtml(t.name)}"><button type="submit">Revoke</button></form>`
                : ''
            }</td></tr>`,
        )
        .join('')}</table>`
    : '<p class="note">No personal access tokens yet.</p>';
  const roleBoxes = v.roles.map((r) => `<label><input type="checkbox" name="role" value="${escapeHtml(r)}" checked> ${escapeHtml(r)}</label>`).join('');
  return layout(
    'Your access',
    `<h1>Your access</h1>${v.message ? `<p class="message">${escapeHtml(v.message)}</p>` : ''}
<p>Signed in as <strong>${escapeHtml(v.subject)}</strong> (${escapeHtml(v.issuer)}).</p>
<p>Roles: ${v.roles.length ? v.roles.map((r) => `<code>${escapeHtml(r)}</code>`).join(' ') : '<span class="note">none</span>'}</p>
<form method="post" action="/logout">${hidden(v.csrf)}<button type="submit">Sign out</button></form>
<h2>Datasets you may read</h2>${datasets}
<h2>Personal access tokens</h2>${tokens}
${
  v.roles.length
    ? `<h2>New token</h2><form method="post" action="/access/tokens">${hidden(v.csrf)}
<p><label>Name <input name="label" required maxlength="64" pattern="[\\p{L}\\p{N} ._\\-]{1,64}"></label>
<label>Expires in <input name="days" type="number" min="1" max="${v.maxTokenDays}" value="${Math.min(30, v.maxTokenDays)}" required> days</label></p>
<p>Roles: ${roleBoxes}</p><p><button type="submit">Create token</button></p></form>`
    : ''
}`,
  );
}

export interface CreatedView {
  readonly token: string;
  readonly label: string;
  readonly flightUri: string;
  readonly dataset?: string;
}

export function tokenCreatedPage(v: CreatedView): string {
  const uri = new URL(v.flightUri.replace(/^grpc(\+tls)?:/, (_m, tls: string | undefined) => (tls ? 'https:' : 'http:')));
  const tls = v.flightUri.startsWith('grpc+tls:');
  const dataset = v.dataset ?? 'DATASET';
  const jdbc = `jdbc:arrow-flight-sql://${uri.hostname}:${uri.port || (tls ? '443' : '80')}?useEncryption=${tls ? 'true' : 'false'}&token=${v.token}`;
  const pyarrow = `import pyarrow.flight as flight
client = flight.FlightClient("${v.flightUri}")
options = flight.FlightCallOptions(headers=[(b"authorization", b"Bearer ${v.token}")])
print(client.do_get(flight.Ticket(b"${dataset}"), options).read_all())`;
  const adbc = `import adbc_driver_flightsql.dbapi as flightsql
conn = flightsql.connect("${v.flightUri}", db_kwargs={"adbc.flight.sql.authorization_header": "Bearer ${v.token}"})
print(conn.cursor().execute("SELECT * FROM ${dataset} LIMIT 10").fetch_arrow_table())`;
  const ts = `import { FlightClient } from 'flightgate';
const client = new FlightClient('${v.flightUri}', { headers: { authorization: 'Bearer ${v.token}' } });
console.log((await client.readTable('${dataset}')).toString());`;
  const block = (title: string, code: string): string => `<h2>${escapeHtml(title)}</h2><pre>${escapeHtml(code)}</pre>`;
  return layout(
    'Token created',
    `<h1>Token “${escapeHtml(v.label)}” created</h1>
<p>Copy it now: it is shown only this once, and flightgate keeps only its hash.</p>
<pre class="token" id="token">${escapeHtml(v.token)}</pre>
${block('pyarrow', pyarrow)}${block('JDBC (Arrow Flight SQL driver): DBeaver, Tableau, …', jdbc)}${block('ADBC (Python)', adbc)}${block('TypeScript', ts)}
<p><a href="/access">Back to your access</a></p>`,
  );
}

/** The device flow's page: the code to approve (as typed, or from the link the CLI printed). */
export function devicePage(v: { readonly userCode: string; readonly csrf: string; readonly subject: string; readonly message?: string }): string {
  return layout(
    'Approve a device',
    `<h1>Approve a sign-in from a device</h1>${v.message ? `<p class="message">${escapeHtml(v.message)}</p>` : ''}
<p>A program (flightgate login, a notebook) asks for tokens as <strong>${escapeHtml(v.subject)}</strong>. Approve only if you started it and the code matches what it shows.</p>
<form method="post" action="/device">${hidden(v.csrf)}
<p><label>Code <input name="user_code" value="${escapeHtml(v.userCode)}" required maxlength="16" autocomplete="off"></label></p>
<p><button type="submit" name="action" value="approve">Approve</button> <button type="submit" name="action" value="deny">Deny</button></p></form>
<p><a href="/access">Your access</a></p>`,
  );
}
