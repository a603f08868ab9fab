// The client.
export { FlightClient, FlightExchange, FlightRecordBatchStream, descriptors } from './flight/client/flight-client.js';
export type {
  BatchSource,
  CallOptions as FlightCallOptions,
  DescriptorInput,
  FlightClientOptions,
  HandshakeResult,
} from './flight/client/flight-client.js';
export { OAuthTokenSource, OAuthTokenError, requestToken } from './flight/client/oauth-token-source.js';
export { storedTokenSource, readCredentials, credentialsPath } from './flight/client/stored-credentials.js';
export { deviceLogin } from './flight/client/device-login.js';
export { FlightSqlClient, PreparedStatement } from './flight/client/flight-sql-client.js';
export type { IngestMode, TablesFilter } from './flight/client/flight-sql-client.js';
export type { TokenSourceOptions, OAuthClientCredentials, TokenEndpointResponse } from './flight/client/oauth-token-source.js';
export { FlightgateError } from './core/errors.js';
export { Status, statusName } from './core/status.js';
export { Metadata } from './flight/transport/metadata.js';
export * as proto from './flight/proto/messages.js';

// The server, and what an embedding application plugs into it.
export { startServer } from './server.js';
export type { EmbeddedServerOptions, StartOptions, RunningServer, Logger } from './server.js';
export { loadConfig } from './config/load.js';
export type { Config, ConfigInput } from './config/schema.js';
export type { Principal, PrincipalKind } from './core/principal.js';
export { principalKey } from './core/principal.js';
export type { DatasetAction } from './core/actions.js';
// Datasets.
export type { Dataset, DatasetProvider, DatasetSource, DatasetStats, MessageOptions } from './catalog/dataset.js';
export { TableProvider } from './catalog/table-provider.js';
export type { IpcMessage } from './ipc/message.js';
// Authentication: a bearer token kind (recognised by its shape) and what it returns.
export type { BearerKind as BearerAuthenticator } from './auth/bearer-router.js';
export type { AuthOutcome, CallContext } from './auth/authenticator.js';
export { AuthenticationFailure } from './auth/authentication-failure.js';
// Flight: actions, CMD commands, the call they run in, and access control.
export type { ActionDefinition } from './flight/actions.js';
export type { FlightCommand, CommandStream } from './flight/commands.js';
export type { AuthenticatedCall } from './flight/binding.js';
export type { ServerCall, MessageSink } from './flight/transport/call.js';
export type { AccessControl } from './flight/access.js';
export { allowAll } from './flight/access.js';

// Other Node services that accept flightgate access tokens (OAuth resource servers).
export { flightgateResourceServer } from './resource-server/fastify-plugin.js';
export type { FlightgateResourceServerOptions, RouteAccess, FlightgateAccess } from './resource-server/fastify-plugin.js';
export { AccessTokenVerifier } from './resource-server/access-token-verifier.js';
