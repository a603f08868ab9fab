/** Runs `flightgate serve` as a separate process (as an operator would) and waits for its ready line. */
import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT } from './python.js';

export const CLI = join(ROOT, 'bin', 'flightgate.js');

export interface CliServer {
  uri: string;
  /** The token service's base URL. */
  httpUri: string;
  child: ChildProcess;
  /** Everything it printed, stdout and stderr. */
  output: string[];
  stop(): Promise<void>;
}

export async function startCliServer(args: string[], env: Record<string, string> = {}): Promise<CliServer> {
  const child = spawn(process.execPath, [CLI, 'serve', '--host', '127.0.0.1', '--port', '0', '--http-port', '0', ...args], {
    env: { ...process.env, FLIGHTGATE_DEMO_NUMBERS_ROWS: '1000', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  let httpUri = '';
  child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const uri = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`flightgate did not start: ${output.join('')}`)), 60_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line + '\n');
      const h = /^flightgate token service on (https?:\/\/\S+)$/.exec(line);
      if (h) httpUri = h[1]!;
      const m = /^flightgate listening on (grpc(?:\+tls)?:\/\/\S+)$/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => reject(new Error(`flightgate exited ${code}: ${output.join('')}`)));
  });
  return {
    uri,
    httpUri,
    child,
    output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Runs a `flightgate` admin command; `input` goes to its stdin (e.g. a password). */
export function runCli(args: string[], env: Record<string, string> = {}, input?: string | Buffer): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    child.stdin!.end(input ?? '');
  });
}
