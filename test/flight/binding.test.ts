/**
 * Authentication is applied by the binding: a method registered the ordinary way refuses an
 * unauthenticated call before its code runs; only a method registered as the public login is
 * reachable without credentials. Over our real gRPC server and client.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { unauthenticated, FlightgateError } from '../../src/core/errors.js';
import type { Principal } from '../../src/core/principal.js';
import { allowAll, type AccessControl } from '../../src/flight/access.js';
import { FlightBinding } from '../../src/flight/binding.js';
import { GrpcChannel } from '../../src/flight/transport/client.js';
import { Metadata } from '../../src/flight/transport/metadata.js';
import { GrpcServer } from '../../src/flight/transport/server.js';

const SERVICE = 'test.Bound';
let server: GrpcServer;
let uri: string;
const ran: string[] = [];

/** Lets in exactly `authorization: Bearer good`. */
const access: AccessControl = {
  ...allowAll,
  async authenticate(call): Promise<Principal> {
    if (call.metadata.get('authorization') !== 'Bearer good') throw unauthenticated('no credentials');
    call.markAuthenticated();
    return { id: 'tester', kind: 'user', method: 'test', roles: [] };
  },
};

before(async () => {
  server = new GrpcServer({});
  const b = new FlightBinding(server, SERVICE, access);
  b.unary('Echo', async ({ principal, out }, request) => {
    ran.push('Echo');
    await out.send(Buffer.concat([Buffer.from(`${principal.id}:`), request]));
  });
  b.publicLogin('Login', async (_call, requests, out) => {
    for await (const m of requests) await out.send(m);
  });
  assert.throws(() => b.unary('Echo', async () => undefined), /bound twice/);
  const address = await server.listen('127.0.0.1', 0);
  uri = `grpc://127.0.0.1:${address.port}`;
});
after(async () => {
  await server.close(0);
});

async function call(method: string, authorization?: string): Promise<string> {
  const channel = new GrpcChannel(uri);
  try {
    const md = new Metadata();
    if (authorization) md.set('authorization', authorization);
    const c = channel.call(SERVICE, method, { metadata: md });
    await c.send(Buffer.from('hi'));
    c.end();
    const out: string[] = [];
    for await (const m of c.messages()) out.push(Buffer.from(m).toString());
    return out.join('|');
  } finally {
    await channel.close();
  }
}

test('a method registered without saying it is public refuses an unauthenticated call before its code runs', async () => {
  await assert.rejects(call('Echo'), (e: unknown) => e instanceof FlightgateError && e.statusName === 'UNAUTHENTICATED');
  await assert.rejects(call('Echo', 'Bearer bad'), (e: unknown) => e instanceof FlightgateError && e.statusName === 'UNAUTHENTICATED');
  assert.deepEqual(ran, [], 'the handler never ran');
  assert.equal(await call('Echo', 'Bearer good'), 'tester:hi');
  assert.deepEqual(ran, ['Echo']);
});

test('the public login is reachable without credentials', async () => {
  assert.equal(await call('Login'), 'hi');
});
