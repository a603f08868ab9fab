/**
 * The source tree's imports keep the shape DESIGN.md draws: no import cycles between files, no
 * cycles between folders, and each folder imports only the folders listed for it here. A new
 * dependency between folders fails this test until it is added to the list on purpose.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers/python.js';

const SRC = join(ROOT, 'src');

/** Who may import whom, folder by folder ("(root)" is server.ts, security.ts and index.ts). */
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  ipc: ['core'],
  config: ['core'],
  audit: ['core'],
  stores: ['core'],
  catalog: ['core', 'ipc'],
  authz: ['core'],
  tokens: ['core', 'config', 'stores', 'audit'],
  auth: ['core', 'config', 'stores', 'audit', 'authz', 'tokens'],
  tls: ['config', 'core'],
  sql: ['core', 'ipc', 'catalog', 'authz'],
  flight: ['core', 'ipc', 'catalog', 'auth', 'authz', 'audit', 'tokens', 'sql'],
  http: ['core', 'audit', 'auth', 'tokens'],
  'resource-server': ['core', 'stores', 'tokens'],
  '(root)': ['core', 'ipc', 'config', 'audit', 'stores', 'catalog', 'authz', 'tokens', 'auth', 'tls', 'flight', 'http', 'resource-server', 'sql'],
  cli: ['(root)', 'core', 'config', 'stores', 'catalog', 'auth', 'tokens', 'tls', 'flight'],
};

function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) sources(p, out);
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

const folderOf = (file: string): string => {
  const parts = relative(SRC, file).split(sep);
  return parts.length > 1 ? parts[0]! : '(root)';
};

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from|import)\s+'(\.{1,2}\/[^']+)'/g)) out.push(normalize(join(dirname(file), m[1]!.replace(/\.js$/, '.ts'))));
  return out;
}

const files = sources(SRC);
const graph = new Map(files.map((f) => [f, importsOf(f).filter((t) => t.startsWith(SRC))]));

test('no file imports itself through a cycle', () => {
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (f: string): void => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'open') {
      cycles.push([...path.slice(path.indexOf(f)), f].map((x) => relative(SRC, x)).join(' → '));
      return;
    }
    state.set(f, 'open');
    path.push(f);
    for (const t of graph.get(f) ?? []) visit(t);
    path.pop();
    state.set(f, 'done');
  };
  for (const f of files) visit(f);
  assert.deepEqual(cycles, []);
});

test('folders import only what DESIGN.md allows them, so no two folders depend on each other', () => {
  const wrong: string[] = [];
  for (const [file, targets] of graph) {
    const from = folderOf(file);
    for (const t of targets) {
      const to = folderOf(t);
      if (to === from) continue;
      if (!(ALLOWED[from] ?? []).includes(to)) wrong.push(`${relative(SRC, file)} imports ${relative(SRC, t)} (${from} → ${to})`);
    }
  }
  assert.deepEqual(wrong, []);
  for (const [a, targets] of Object.entries(ALLOWED)) {
    for (const b of targets) assert.ok(!(ALLOWED[b] ?? []).includes(a), `${a} and ${b} may not both import each other`);
  }
});
