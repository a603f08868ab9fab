/** `flightgate certs dev`: a development CA with server and client certificates, to try TLS and mTLS. */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { DEFAULT_DEV_CLIENT, DEFAULT_DEV_HOSTS } from '../tls/dev-names.js';
import { UsageError } from './usage-error.js';

export const CERTS_USAGE = `usage: flightgate certs dev --out DIR [--host NAME]... [--client NAME] [--force]

  Writes a development certificate authority and two certificates it signed:
    ca.pem, ca.key           the CA (clients trust ca.pem; the server verifies client certificates with it)
    server.pem, server.key   the server, valid for ${DEFAULT_DEV_HOSTS.join(', ')} (or the --host names)
    client.pem, client.key   a client certificate with common name "${DEFAULT_DEV_CLIENT}" (or --client) for mutual TLS
  Keys are written 0600. For development only: use certificates from your own CA in production.

  --out DIR      directory to write to (created if needed)
  --host NAME    a DNS name or IP address for the server certificate (repeatable)
  --client NAME  common name of the client certificate
  --force        replace existing files`;

export async function certsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      host: { type: 'string', multiple: true },
      client: { type: 'string' },
      force: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  const [action, ...extra] = positionals;
  if (values.help || action === undefined) {
    console.log(CERTS_USAGE);
    return values.help ? 0 : 2;
  }
  if (action !== 'dev') throw new UsageError(`unknown certs command "${action}"\n${CERTS_USAGE}`);
  if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  if (!values.out) throw new UsageError(`--out DIR is required\n${CERTS_USAGE}`);
  const dir = resolve(values.out);
  let files;
  try {
    // Loaded here only: no other command needs the certificate library.
    const { writeDevCertificates } = await import('../tls/dev-certificates.js');
    files = await writeDevCertificates(dir, { hosts: values.host, clientName: values.client, force: values.force });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  console.log(`development CA and certificates written to ${dir}:
  ${files.caCert}      trust this in clients
  ${files.serverCert}  ${files.serverKey}
  ${files.clientCert}  ${files.clientKey}  (common name "${values.client ?? DEFAULT_DEV_CLIENT}")

TLS:   flightgate serve --tls-cert ${files.serverCert} --tls-key ${files.serverKey}
mTLS:  add --tls-client-ca ${files.caCert} and map "${values.client ?? DEFAULT_DEV_CLIENT}" to roles in tls.clientPrincipals (see the README)`);
  return 0;
}
