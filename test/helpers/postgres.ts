/**
 * A private, real PostgreSQL server for a test: a fresh cluster in a temporary directory on a
 * free port, password authentication over TCP, fsync off. PostgreSQL refuses to run as root, so
 * as root the binaries run as the `postgres` user. Stopped and removed when the process exits.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';

const run = promisify(execFile);

export interface PostgresServer {
  port: number;
  adminUrl: string;
  /** Creates a fresh database and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  stop(): Promise<void>;
  /** A crash: immediate shutdown, no checkpoint; the next start runs crash recovery. */
  kill(): Promise<void>;
  start(): Promise<void>;
}

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : [];
  if (versions.length === 0) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql (run scripts/setup-services.sh)');
  return join(root, versions.sort((a, b) => Number(b) - Number(a))[0]!, 'bin');
}

const clusters = new Set<() => void>();
process.once('exit', () => {
  for (const stop of clusters) stop();
});

export async function startPostgres(): Promise<PostgresServer> {
  const bin = binDir();
  const asRoot = process.getuid?.() === 0;
  const pgUid = asRoot ? Number(execFileSync('id', ['-u', 'postgres']).toString().trim()) : undefined;
  const pgGid = asRoot ? Number(execFileSync('id', ['-g', 'postgres']).toString().trim()) : undefined;
  const as = (cmd: string, args: string[]): [string, string[]] => (asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]);

  const base = mkdtempSync(join(tmpdir(), 'fg-pg-'));
  const data = join(base, 'data');
  const sockets = join(base, 'run');
  const password = randomBytes(12).toString('hex');
  const pwfile = join(base, 'pw');
  writeFileSync(pwfile, password);
  if (asRoot) {
    chmodSync(base, 0o755);
    chownSync(base, pgUid!, pgGid!);
    chownSync(pwfile, pgUid!, pgGid!);
  }
  execFileSync(...as(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-E', 'UTF8', '--locale=C.UTF-8', '--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${pwfile}`]), { stdio: 'pipe' });
  rmSync(pwfile);
  execFileSync(...as('mkdir', ['-p', sockets]));
  const port = await freePort();
  const pgCtl = join(bin, 'pg_ctl');
  const start = async (): Promise<void> => {
    await run(...as(pgCtl, ['-D', data, '-l', join(base, 'server.log'), '-w', '-t', '30', '-o', `-p ${port} -k ${sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off`, 'start']));
  };
  const stop = async (): Promise<void> => {
    await run(...as(pgCtl, ['-D', data, '-m', 'fast', '-w', 'stop'])).catch(() => undefined);
  };
  const cleanup = (): void => {
    try {
      execFileSync(...as(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']), { stdio: 'ignore' });
    } catch {
      // not running
    }
    rmSync(base, { recursive: true, force: true });
  };
  clusters.add(cleanup);
  await start();
  const adminUrl = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  let n = 0;
  return {
    port,
    adminUrl,
    async createDatabase(name = `fg_test_${process.pid}_${++n}`) {
      await run(...as(join(bin, 'psql'), ['-h', sockets, '-p', String(port), '-U', 'postgres', '-qc', `create database "${name}"`]));
      return `postgres://postgres:${password}@127.0.0.1:${port}/${name}`;
    },
    stop,
    kill: async () => {
      await run(...as(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop'])).catch(() => undefined);
    },
    start,
  };
}
