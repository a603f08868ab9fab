/**
 * flightgate as a library: a server whose datasets include a table this program computes, and
 * whose callers may also present this program's own bearer tokens. Run it from the project with
 * `node --import tsx examples/embedded.ts` (it prints the Flight URI); then, with pyarrow:
 *
 *   client = flight.FlightClient(URI)
 *   options = flight.FlightCallOptions(headers=[(b"authorization", b"Bearer report-service-token")])
 *   print(client.do_get(flight.Ticket(b"inventory"), options).read_all())
 */
import { tableFromArrays } from 'apache-arrow';
import { AuthenticationFailure, startServer, TableProvider, type BearerAuthenticator } from 'flightgate';

// Data the application holds in memory: served as the dataset `inventory`, read-only.
const inventory = tableFromArrays({
  sku: ['A-100', 'B-200', 'C-300'],
  stock: Int32Array.from([12, 0, 7]),
});

// The application's own service tokens: `Bearer report-service-token` is the report service,
// with the roles it is granted like any principal (here the demo's reader of every dataset).
const serviceTokens: BearerAuthenticator = {
  name: 'a report-service token',
  accepts: (token) => token.startsWith('report-service-'),
  async authenticate(token) {
    if (token !== 'report-service-token') throw new AuthenticationFailure('unknown report-service token', 'unknown service token');
    return { principal: { id: 'report-service', kind: 'application', method: 'service-token', roles: ['demo-admin'] } };
  },
};

const server = await startServer({
  config: { demo: true, demoNumbersRows: 1000, port: Number(process.env.PORT ?? 0), httpPort: 0, dataDir: process.env.DATA_DIR ?? './flightgate-data' },
  providers: [new TableProvider('application tables', () => ({ inventory }))],
  authenticators: [serviceTokens],
});
console.log(`flightgate listening on ${server.uri}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.close(1000).then(() => process.exit(0));
  });
}
