/** Starts a real flightgate server in this process, on a free port, with its own data directory. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { startServer, type Logger, type RunningServer, type StartOptions } from '../../src/server.js';
import { allowAll } from '../../src/flight/access.js';

export interface TestServer extends RunningServer {
  dataDir: string;
  logs: string[];
  /** Stops the server and removes its data directory (unless `keepData`). */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

export function tempDir(prefix = 'fg-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface TestServerOptions extends Pick<StartOptions, 'commands' | 'actions'> {
  /** With authentication and authorization from the config (registry, sessions); otherwise everyone may do everything. */
  secure?: boolean;
}

export async function startTestServer(overrides: Partial<ConfigInput> = {}, options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = overrides.dataDir ?? tempDir();
  const logs: string[] = [];
  const logger: Logger = {
    info: (m) => logs.push(m),
    warn: (m) => logs.push(`warning: ${m}`),
    error: (m, err) => logs.push(`error: ${m} ${err instanceof Error ? err.stack : String(err ?? '')}`),
  };
  const config = loadConfig({
    env: {},
    overrides: {
      host: '127.0.0.1',
      port: 0,
      httpPort: 0,
      durableWrites: false,
      demoNumbersRows: 100_000,
      shutdownGraceSeconds: 2,
      // Audit lines go to a file the test can read, not into the test runner's output.
      audit: { file: join(dataDir, 'audit.log') },
      ...overrides,
      dataDir,
    },
  });
  const extensions = { commands: options.commands, actions: options.actions };
  const server = await startServer(config, options.secure ? { logger, ...extensions } : { logger, access: allowAll, ...extensions });
  return {
    ...server,
    dataDir,
    logs,
    async stop(options = {}) {
      await server.close(1000);
      if (!options.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
