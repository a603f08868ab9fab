#!/usr/bin/env node
// Builds the DuckDB binding (native/flightgate_duckdb.c) against the libduckdb shared library
// that DuckDB's own npm package for this platform ships. Needs a C compiler and Node's headers;
// prints why and exits non-zero when either is missing, since Flight SQL cannot run without it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// At `npm install` of the package a missing compiler must not stop plain Flight from installing:
// the server then says at start that Flight SQL needs the binding (or sql.enabled: false).
const ifPossible = process.argv.includes('--if-possible');
const fail = (message) => {
  console.error(`build-native: ${message}`);
  process.exit(ifPossible ? 0 : 1);
};
const require = createRequire(join(root, 'package.json'));
const platformPackage = `@duckdb/node-bindings-${process.platform}-${process.arch}`;
let libDir;
try {
  libDir = dirname(require.resolve(`${platformPackage}/package.json`));
} catch {
  fail(`${platformPackage} is not installed; Flight SQL needs DuckDB's library for this platform`);
}
const includeCandidates = [
  process.env.NODE_INCLUDE_DIR,
  join(dirname(process.execPath), '..', 'include', 'node'),
  join(process.env.HOME ?? '', '.cache', 'node-gyp', process.versions.node, 'include', 'node'),
].filter(Boolean);
const include = includeCandidates.find((d) => existsSync(join(d, 'node_api.h')));
if (!include) {
  fail(`node_api.h not found (looked in ${includeCandidates.join(', ')}); set NODE_INCLUDE_DIR`);
}
const source = join(root, 'native', 'flightgate_duckdb.c');
const outDir = join(root, 'native', 'build');
const out = join(outDir, 'flightgate_duckdb.node');
const ceiling = join(root, 'native', 'memory_ceiling.c');
const inputs = [source, ceiling, join(root, 'native', 'memory_ceiling.h'), join(root, 'native', 'duckdb_c_api.h'), join(libDir, process.platform === 'darwin' ? 'libduckdb.dylib' : 'libduckdb.so')];
if (existsSync(out) && inputs.every((f) => statSync(f).mtimeMs <= statSync(out).mtimeMs) && !process.argv.includes('--force')) {
  process.exit(0);
}
mkdirSync(outDir, { recursive: true });
const cc = process.env.CC ?? 'cc';
const args = [
  '-O2', '-std=c11', '-D_GNU_SOURCE', '-fPIC', '-shared', '-Wall', '-Wextra', '-Wno-unused-parameter',
  '-DNODE_GYP_MODULE_NAME=flightgate_duckdb', `-I${include}`,
  source, ceiling, '-o', out, `-L${libDir}`, '-lduckdb', '-lpthread', `-Wl,-rpath,${libDir}`,
];
if (process.platform === 'darwin') args.push('-undefined', 'dynamic_lookup');
try {
  execFileSync(cc, args, { stdio: 'inherit' });
} catch {
  fail(`${cc} failed; Flight SQL needs this binding`);
}
