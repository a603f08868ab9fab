/** Runs Python with pyarrow from the project's virtualenv (created by scripts/test.sh). */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const PYTHON = process.env.FLIGHTGATE_PYTHON ?? join(ROOT, '.venv', 'bin', 'python');

export function assertPython(): void {
  if (!existsSync(PYTHON)) {
    throw new Error(`no Python with pyarrow at ${PYTHON}: run the tests with 'npm test', which creates it`);
  }
}

export interface PythonResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a Python script to completion. */
export function runPython(args: string[], env: Record<string, string> = {}, timeoutMs = 300_000): Promise<PythonResult> {
  assertPython();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(PYTHON, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** Starts a long-running Python process and waits until it prints a line matching `ready`. */
export async function startPython(args: string[], ready: RegExp, env: Record<string, string> = {}): Promise<{ child: ChildProcess; match: RegExpMatchArray; output: string[] }> {
  assertPython();
  const child = spawn(PYTHON, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
  const lines = createInterface({ input: child.stdout! });
  const match = await new Promise<RegExpMatchArray>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`python did not get ready: ${output.join('')}`)), 60_000);
    lines.on('line', (line) => {
      output.push(line);
      const m = line.match(ready);
      if (m) {
        clearTimeout(timer);
        resolvePromise(m);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`python exited with ${code} before it was ready: ${output.join('\n')}`));
    });
  });
  return { child, match, output };
}
