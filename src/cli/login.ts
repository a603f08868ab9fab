/** `flightgate login --server URL`: the device flow, then the tokens saved for FlightClient and scripts. */
import { parseArgs } from 'node:util';
import { deviceLogin } from '../flight/client/device-login.js';
import { credentialsPath, saveCredentials } from '../flight/client/stored-credentials.js';
import { UsageError } from './usage-error.js';

export const LOGIN_USAGE = `usage: flightgate login --server URL

Signs you in to a flightgate server through your browser (the OAuth device flow, RFC 8628):
prints a link and a code, waits while you approve it on the server's page (signed in with
your identity provider), then saves an access and a refresh token, readable by you only, in
${credentialsPath()} for FlightClient (storedTokenSource) and scripts.

  --server URL   the server's token service, e.g. https://flight.example.com:8443`;

export async function loginCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { server: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) {
    console.log(LOGIN_USAGE);
    return 0;
  }
  if (!values.server) throw new UsageError(`--server is required\n${LOGIN_USAGE}`);
  const server = values.server;
  const tokens = await deviceLogin(server, (p) => {
    console.log(`To sign in, open ${p.verification_uri_complete ?? p.verification_uri}`);
    console.log(`and check that the page shows the code ${p.user_code} (valid ${Math.round(p.expires_in / 60)} minutes).`);
  });
  saveCredentials(server, tokens);
  console.log(`signed in: tokens saved to ${credentialsPath()}`);
  return 0;
}
