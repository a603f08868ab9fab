/**
 * Every code block of the README runs as written, or says why not. Each fenced block with a
 * language carries a `<!-- readme-test: … -->` comment:
 *  - `server NAME`: the block's `npx flightgate serve …` line is started (with free ports) as
 *    server NAME, in a scratch directory of its own; the block's other lines run first;
 *  - `run NAME[, exits N]`: the block runs (bash, python with pyarrow, or TypeScript) in server
 *    NAME's directory, against it: only the well-known ports 8815 and 8080 are replaced by the
 *    ones it got; a bash block must exit 0 (or N);
 *  - `config [fragment]`: a JSON or YAML block is a valid configuration (a fragment inside `{}`);
 *  - `skip: why`: not run here, and why.
 * An unmarked block fails the test: a new snippet must say how it is kept honest.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { PYTHON, ROOT } from '../helpers/python.js';
import { tempDir } from '../helpers/server.js';

interface Block {
  readonly line: number;
  readonly lang: string;
  readonly marker: string;
  readonly code: string;
}

/** The fenced blocks of a markdown text with their marker comments (indented blocks too). */
function blocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)```([a-z]+)\s*$/.exec(lines[i]!);
    if (!m) continue;
    const indent = m[1]!;
    const marker = /^\s*<!-- readme-test: (.*) -->\s*$/.exec(lines[i - 1] ?? '')?.[1] ?? '';
    const code: string[] = [];
    let j = i + 1;
    for (; j < lines.length && lines[j]!.trim() !== '```'; j++) code.push(lines[j]!.startsWith(indent) ? lines[j]!.slice(indent.length) : lines[j]!);
    out.push({ line: i + 1, lang: m[2]!, marker, code: code.join('\n') });
    i = j;
  }
  return out;
}

interface Server {
  readonly dir: string;
  readonly child: ChildProcess;
  flightPort: string;
  httpPort: string;
  readonly output: string[];
}

const servers = new Map<string, Server>();
const scratch: string[] = [];
after(async () => {
  for (const s of servers.values()) {
    s.child.kill('SIGTERM');
    await new Promise((r) => s.child.once('exit', r));
  }
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

/** `npx flightgate` in the README is this checkout's CLI; everything else runs as it is. */
const BASH_PRELUDE = `set -euo pipefail
npx() { if [ "\${1:-}" = flightgate ]; then shift; node ${JSON.stringify(join(ROOT, 'bin', 'flightgate.js'))} "$@"; else command npx "$@"; fi; }
python3() { ${JSON.stringify(PYTHON)} "$@"; }
`;

function withPorts(code: string, server: Server): string {
  return code.replace(/\b(127\.0\.0\.1|localhost):8815\b/g, `$1:${server.flightPort}`).replace(/\b(127\.0\.0\.1|localhost):8080\b/g, `$1:${server.httpPort}`);
}

function run(command: string, args: string[], cwd: string, timeoutMs = 120_000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, FLIGHTGATE_DEMO_NUMBERS_ROWS: '10000', FLIGHTGATE_AUDIT_FILE: '/dev/null' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

async function startServer(name: string, block: Block): Promise<void> {
  const dir = tempDir('fg-readme-');
  scratch.push(dir);
  const serveLine = block.code.split('\n').find((l) => /^npx flightgate serve\b/.test(l.trim()));
  assert.ok(serveLine, `line ${block.line}: a "server" block needs an npx flightgate serve line`);
  // The block's other commands (npm install excepted: the test setup did it) run first.
  const before = block.code.split('\n').filter((l) => l !== serveLine && !/^\s*npm install\b/.test(l)).join('\n');
  if (before.trim()) {
    const r = await run('bash', ['-c', BASH_PRELUDE + before], dir);
    assert.equal(r.code, 0, `line ${block.line}: ${r.out}`);
  }
  const args = serveLine.trim().replace(/\s+#.*$/, '').split(/\s+/).slice(2);
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'flightgate.js'), ...args, '--port', '0', '--http-port', '0'], {
    cwd: dir,
    env: { ...process.env, FLIGHTGATE_DEMO_NUMBERS_ROWS: '10000', FLIGHTGATE_AUDIT_FILE: '/dev/null' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const server: Server = { dir, child, flightPort: '', httpPort: '', output: [] };
  child.stderr!.on('data', (d: Buffer) => server.output.push(d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`line ${block.line}: the server did not start: ${server.output.join('')}`)), 60_000);
    child.once('exit', (code) => reject(new Error(`line ${block.line}: the server exited ${code}: ${server.output.join('')}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      server.output.push(`${line}\n`);
      const http = /^flightgate token service on https?:\/\/[^:]+:(\d+)$/.exec(line);
      if (http) server.httpPort = http[1]!;
      const flight = /^flightgate listening on grpc(?:\+tls)?:\/\/[^:]+:(\d+)$/.exec(line);
      if (flight) {
        server.flightPort = flight[1]!;
        clearTimeout(timer);
        resolve();
      }
    });
  });
  servers.set(name, server);
}

async function runBlock(block: Block, serverName: string, expectedExit: number): Promise<void> {
  const server = servers.get(serverName);
  assert.ok(server, `line ${block.line}: no server "${serverName}" started before this block`);
  const code = withPorts(block.code, server);
  let r: { code: number | null; out: string };
  if (block.lang === 'bash' || block.lang === 'sh') {
    r = await run('bash', ['-c', BASH_PRELUDE + code], server.dir);
  } else if (block.lang === 'python') {
    r = await run(PYTHON, ['-c', code], server.dir);
  } else if (block.lang === 'ts') {
    // Inside the package, so that `import … from 'flightgate'` resolves to this checkout (dist/).
    const dir = join(ROOT, '.readme-test');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `line-${block.line}.mts`);
    writeFileSync(file, code);
    r = await run(process.execPath, ['--import', pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, file], server.dir);
  } else {
    assert.fail(`line ${block.line}: cannot run a ${block.lang} block`);
  }
  assert.equal(r.code, expectedExit, `README line ${block.line} (${block.lang}) exited ${r.code}:\n${r.out}`);
}

function checkConfig(block: Block, fragment: boolean): void {
  const dir = tempDir('fg-readme-config-');
  scratch.push(dir);
  const text = fragment ? `{${block.code}}` : block.code;
  const file = join(dir, block.lang === 'yaml' ? 'c.yaml' : 'c.json');
  writeFileSync(file, text);
  assert.doesNotThrow(() => loadConfig({ file, env: {} }), `README line ${block.line}: not a valid configuration`);
}

test('every README code block runs as written, or says why it cannot here', async (t) => {
  const all = blocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  assert.ok(all.length > 20, 'the README has its code blocks');
  const unmarked = all.filter((b) => !b.marker);
  assert.deepEqual(unmarked.map((b) => `line ${b.line} (${b.lang})`), [], 'every block needs a readme-test comment');
  let ran = 0;
  const skipped: string[] = [];
  for (const block of all) {
    const [kind, ...rest] = block.marker.split(/[\s:,]+/);
    if (kind === 'skip') {
      skipped.push(`line ${block.line}: ${block.marker.slice(5).trim()}`);
      continue;
    }
    if (kind === 'server') {
      await startServer(rest[0]!, block);
    } else if (kind === 'run') {
      const exits = /exits (\d+)/.exec(block.marker);
      await runBlock(block, rest[0]!, exits ? Number(exits[1]) : 0);
    } else if (kind === 'config') {
      checkConfig(block, rest[0] === 'fragment');
    } else {
      assert.fail(`line ${block.line}: unknown readme-test marker "${block.marker}"`);
    }
    ran++;
  }
  t.diagnostic(`${ran} blocks ran or were checked; ${skipped.length} not run here:`);
  for (const s of skipped) t.diagnostic(s);
  assert.ok(ran >= 15, `only ${ran} blocks ran`);
});
