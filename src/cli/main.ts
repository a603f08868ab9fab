/** The `flightgate` command. Each subcommand parses its flags and calls into the server. */
import { restrictNewFiles } from '../core/private-files.js';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/load.js';
import { loggerFor, startServer } from '../server.js';
import { FlightgateError } from '../core/errors.js';
import { apiKeysCommand } from './apikeys.js';
import { certsCommand } from './certs.js';
import { configCommand } from './config.js';
import { clientsCommand } from './clients.js';
import { keysCommand } from './keys.js';
import { policyCommand } from './policy.js';
import { rolesCommand } from './roles.js';
import { sessionsCommand } from './sessions.js';
import { UsageError } from './usage-error.js';
import { usersCommand } from './users.js';
import { loginCommand } from './login.js';

const USAGE = `usage: flightgate <command> [options]

commands:
  serve     run the Flight server
  users     add, list, change and remove users
  roles     create roles and grant them actions on datasets (with row filters and column masks)
  policy    test what a caller would read of a dataset (policy test)
  sessions  revoke sessions
  clients   OAuth clients for client_credentials (machines, jobs)
  apikeys   API keys (fgk_…) for scripts
  keys      token signing keys: list, rotate
  certs     a development CA and certificates to try TLS and mutual TLS
  config    check a configuration file, or print a commented example
  login     sign in through your browser and save tokens for clients (device flow)

run 'flightgate <command> --help' for a command's options`;

const SERVE_USAGE = `usage: flightgate serve [--demo] [--host H] [--port N] [--http-port N] [--data-dir DIR] [--config FILE]
                       [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]]

  --demo           seed and serve the demo datasets db1, db2 and numbers
  --host H         address to bind (default 127.0.0.1; 0.0.0.0 for all interfaces)
  --port N         Flight gRPC port (default 8815; 0 picks a free port)
  --http-port N    token service, JWKS and health port (default 8080; 0 picks a free port)
  --data-dir DIR   where datasets are found and uploads kept (default ./flightgate-data)
  --config FILE    JSON or YAML configuration file; FLIGHTGATE_* environment variables override it,
                   and these flags override both
  --tls-cert FILE  PEM server certificate (chain): serve grpc+tls:// and https://
  --tls-key FILE   PEM private key of the server certificate
  --tls-client-ca FILE
                   PEM CA bundle: ask for client certificates and verify them (mutual TLS);
                   map them to principals in tls.clientPrincipals
  ('flightgate certs dev --out DIR' writes a development CA and certificates to try these)`;


function portOption(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`${flag}: expected 0-65535, got ${value}`);
  return port;
}

async function serve(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      demo: { type: 'boolean' },
      host: { type: 'string' },
      port: { type: 'string' },
      'http-port': { type: 'string' },
      'data-dir': { type: 'string' },
      config: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-client-ca': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(SERVE_USAGE);
    return 0;
  }
  const port = portOption('--port', values.port);
  const httpPort = portOption('--http-port', values['http-port']);
  const tlsFlags = { certFile: values['tls-cert'], keyFile: values['tls-key'], clientCaFile: values['tls-client-ca'] };
  const anyTlsFlag = Object.values(tlsFlags).some((v) => v !== undefined);
  const config = loadConfig({
    file: values.config,
    // Flags merge into the file's tls section key by key (the file may hold clientPrincipals).
    overrides: { demo: values.demo, host: values.host, port, httpPort, dataDir: values['data-dir'], ...(anyTlsFlag ? { tls: tlsFlags as { certFile: string; keyFile: string } } : {}) },
  });
  const logger = loggerFor(config.logFormat);
  const server = await startServer(config, { logger });
  if (server.httpUri) console.log(`flightgate token service on ${server.httpUri}`);
  console.log(`flightgate listening on ${server.uri}`);

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) {
        logger.warn(`${signal} again: exiting now`);
        process.exit(1);
      }
      stopping = true;
      logger.info(`${signal} received: draining in-flight calls (up to ${config.shutdownGraceSeconds}s)`);
      server.close().then(resolve, (err: unknown) => {
        logger.error('shutdown failed', err);
        resolve();
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    if (config.tls) {
      // Renewed certificates and new CRLs without a restart: `kill -HUP <pid>`.
      process.on('SIGHUP', () => {
        try {
          server.reloadTls();
          logger.info('SIGHUP: TLS certificate, key, client CA and CRL re-read; open connections reconnect to use them');
        } catch (err) {
          logger.error(`SIGHUP: TLS files not reloaded, the current ones stay in use: ${err instanceof Error ? err.message : String(err)}`);
        }
      });
    }
  });
  logger.info('flightgate stopped');
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // Admin commands create the registry too: whatever they write is the server user's alone.
  restrictNewFiles();
  try {
    switch (command) {
      case 'serve':
        return await serve(rest);
      case 'users':
        return await usersCommand(rest);
      case 'roles':
        return await rolesCommand(rest);
      case 'sessions':
        return await sessionsCommand(rest);
      case 'policy':
        return await policyCommand(rest);
      case 'clients':
        return await clientsCommand(rest);
      case 'apikeys':
        return await apiKeysCommand(rest);
      case 'keys':
        return await keysCommand(rest);
      case 'certs':
        return await certsCommand(rest);
      case 'config':
        return await configCommand(rest);
      case 'login':
        return await loginCommand(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        console.log(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"\n${USAGE}`);
    }
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      console.error(`flightgate: ${err.message}`);
      return 2;
    }
    if (err instanceof FlightgateError) {
      console.error(`flightgate: ${err.message}`);
      return err.statusName === 'INVALID_ARGUMENT' ? 2 : 1;
    }
    if (err instanceof Error && String((err as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS')) {
      console.error(`flightgate: ${err.message}`);
      return 2;
    }
    if (err instanceof Error && (err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      console.error(`flightgate: ${err.message} (is another server running? pick another --port or --http-port)`);
      return 1;
    }
    console.error(`flightgate: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
