/**
 * A private, real Redis Cluster for a test: three masters (`redis-server --cluster-enabled yes`)
 * on free loopback ports, joined by `redis-cli --cluster create`, each in its own temporary
 * directory (its nodes.conf and append-only file survive a restart, so a stopped node rejoins as
 * itself, with its keys). Killed when the test process exits.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';

const run = promisify(execFile);

export interface RedisClusterServer {
  /** The URL flightgate takes: redis+cluster://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3 */
  url: string;
  ports: number[];
  /** Stops node `i` (SIGTERM) / starts it again on its port with its identity. */
  stopNode(i: number): Promise<void>;
  startNode(i: number): Promise<void>;
  /** Resolves once every running node reports cluster_state:ok. */
  healthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

async function cli(port: number, ...args: string[]): Promise<string> {
  return (await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 5000 })).stdout;
}

export async function startRedisCluster(): Promise<RedisClusterServer> {
  const ports = [await freePort(), await freePort(), await freePort()];
  const dirs = ports.map(() => mkdtempSync(join(tmpdir(), 'fg-redis-cluster-')));
  const children: (ChildProcess | undefined)[] = [undefined, undefined, undefined];

  const startNode = async (i: number): Promise<void> => {
    const c = spawn(
      'redis-server',
      ['--port', String(ports[i]), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '1000', '--save', '', '--appendonly', 'yes', '--dir', dirs[i]!],
      { stdio: 'ignore' },
    );
    children[i] = c;
    running.add(c);
    c.once('exit', () => running.delete(c));
    const deadline = Date.now() + 10_000;
    for (;;) {
      if ((await cli(ports[i]!, 'PING').catch(() => '')).startsWith('PONG')) return;
      if (c.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server (cluster node) did not start on port ${ports[i]}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const stopNode = async (i: number): Promise<void> => {
    const c = children[i];
    children[i] = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await exited;
  };

  const healthy = async (timeoutMs = 20_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = await Promise.all(ports.map((p, i) => (children[i] ? cli(p, 'CLUSTER', 'INFO').catch(() => '') : Promise.resolve('cluster_state:ok'))));
      if (states.every((s) => s.includes('cluster_state:ok'))) return;
      if (Date.now() > deadline) throw new Error(`Redis Cluster not healthy: ${states.map((s) => /cluster_state:\w+/.exec(s)?.[0]).join(', ')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  await Promise.all(ports.map((_, i) => startNode(i)));
  await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: 20_000 });
  await healthy();
  return {
    url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`,
    ports,
    stopNode,
    startNode,
    healthy,
    async stop() {
      await Promise.all(ports.map((_, i) => stopNode(i)));
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}
