/**
 * The composition root's Flight SQL part: the engine from the `sql` settings, and the Flight SQL
 * command and actions on top of it, ready to register with the Flight service.
 */
import { join } from 'node:path';
import type { Catalog } from './catalog/catalog.js';
import type { Config } from './config/schema.js';
import { arrowLibraryVersion, flightgateVersion } from './core/version.js';
import type { AccessControl } from './flight/access.js';
import type { ActionDefinition } from './flight/actions.js';
import type { FlightCommand } from './flight/commands.js';
import { ReadAccess } from './flight/read-access.js';
import { FlightSqlService } from './flight/sql/flight-sql-service.js';
import type { TicketCodec } from './flight/ticket.js';
import type { Logger } from './logger.js';
import { SqlEngine } from './sql/engine.js';
import { memorySizeBytes } from './sql/memory-size.js';

export interface OpenedSql {
  readonly engine: SqlEngine;
  /** Reads through the engine's policy views: the Flight service must use this one too. */
  readonly reads: ReadAccess;
  readonly command: FlightCommand;
  readonly actions: readonly ActionDefinition[];
}

export function openSql(config: Config, dataDir: string, deps: { catalog: Catalog; access: AccessControl; tickets: TicketCodec; logger: Logger }): OpenedSql | undefined {
  const s = config.sql;
  if (!s.enabled) return undefined;
  const warn = (message: string): void => deps.logger.warn(message);
  const engine = new SqlEngine(
    {
      threads: s.threads,
      memoryLimit: s.memoryLimit,
      ...(s.memoryCeiling ? { memoryCeiling: s.memoryCeiling } : {}),
      tempDirectory: s.tempDirectory ?? join(dataDir, '.sql-spill'),
      maxTempDirectorySize: s.maxTempDirectorySize,
      maxConcurrentQueries: s.maxConcurrentQueries,
      maxConcurrentQueriesPerPrincipal: s.maxConcurrentQueriesPerPrincipal,
      maxQuerySeconds: s.maxQuerySeconds,
      maxStatementBytes: s.maxStatementBytes,
      resultBatchRows: s.resultBatchRows,
      materializeBelowBytes: memorySizeBytes(s.materializeBelow),
      scanCacheBytes: memorySizeBytes(s.scanCacheSize),
      // Shared by replicas through the ticket key, so that pseudonyms agree across them.
      columnHashKey: deps.tickets.derive('column-mask-hash').toString('hex'),
    },
    warn,
  );
  const reads = new ReadAccess(deps.catalog, deps.access, engine, warn);
  const service = new FlightSqlService({
    engine,
    catalog: deps.catalog,
    access: deps.access,
    reads,
    tickets: deps.tickets,
    ticketTtlMs: config.ticketTtlSeconds * 1000,
    advertisedUri: config.advertisedUri,
    serverVersion: `${flightgateVersion()} (DuckDB ${engine.version})`,
    arrowVersion: arrowLibraryVersion(),
  });
  return { engine, reads, command: service.command(), actions: service.actions() };
}
