/**
 * DoAction: the standard Flight actions we support and our own, each described for ListActions.
 * A new action is one `register()` (the built-in ones are registered the same way).
 */
import { invalidArgument, unimplemented } from '../core/errors.js';
import { principalKey, type Principal } from '../core/principal.js';
import type { Catalog } from '../catalog/catalog.js';
import type { SegmentRange } from '../catalog/dataset.js';
import type { Dataset } from '../catalog/dataset.js';
import type { Schema } from 'apache-arrow';
import type { AccessControl } from './access.js';
import {
  CancelStatus,
  CloseSessionStatus,
  encodeCloseSessionResult,
  decodeCancelFlightInfoRequest,
  decodeRenewFlightEndpointRequest,
  encodeCancelFlightInfoResult,
  encodeEndpoint,
  timestampFromDate,
  type Action,
  type ActionType,
  type FlightInfo,
} from './proto/messages.js';
import type { TicketCodec } from './ticket.js';
import type { ServerCall } from './transport/call.js';
import { checkDatasetName } from '../catalog/names.js';

interface ActionContext {
  catalog: Catalog;
  access: AccessControl;
  tickets: TicketCodec;
  /** A fresh ticket for `dataset`, issued to `principal`, and when it expires (ms, not rounded). */
  issueTicket(dataset: string, principal: Principal, segments?: SegmentRange): { ticket: Uint8Array; expiresAt: number };
  /** Cancels what a FlightInfo started, when a command issued it; undefined when none did. */
  cancelFlight?(info: FlightInfo, principal: Principal): Promise<number | undefined>;
  /** Tells the commands that `principal`'s session ended (they drop what they kept for it). */
  sessionClosed?(principal: Principal): void;
}

/** One DoAction type: its name and description (ListActions) and what it does. */
export interface ActionDefinition extends ActionType {
  /** Results, each sent as one Result message. The caller is authenticated; authorize what the action touches. */
  run(body: Uint8Array, principal: Principal, call: ServerCall): Promise<Uint8Array[]>;
}

const json = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value));

function datasetFromBody(body: Uint8Array): string {
  const text = Buffer.from(body).toString('utf8').trim();
  if (!text) throw invalidArgument('action body must name a dataset: {"dataset": "name"} or the bare name');
  if (text.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw invalidArgument('action body is not valid JSON');
    }
    const d = (parsed as { dataset?: unknown }).dataset;
    if (typeof d !== 'string') throw invalidArgument('action body needs a "dataset" string');
    return checkDatasetName(d);
  }
  return checkDatasetName(text);
}

export class ActionRegistry {
  private readonly actions = new Map<string, ActionDefinition>();

  constructor(
    ctx: ActionContext,
    /** A dataset as the caller may read it: its FlightInfo and schema after any policy, and the dataset. */
    describeFlight: (name: string, principal: Principal, call: ServerCall) => Promise<{ info: FlightInfo; schema: Schema; dataset: Dataset }>,
  ) {
    const { catalog, access, tickets } = ctx;
    const builtins: ActionDefinition[] = [
      {
        type: 'CancelFlightInfo',
        description:
          'Standard Flight action: cancel a FlightInfo. A Flight SQL query is stopped and its ticket refused from then on (CANCELLED); dataset flights are complete when returned (NOT_CANCELLABLE).',
        run: async (body, principal) => {
          const info = decodeCancelFlightInfoRequest(body);
          if (!info) throw invalidArgument('CancelFlightInfo needs a CancelFlightInfoRequest with a FlightInfo');
          const status = (await ctx.cancelFlight?.(info, principal)) ?? CancelStatus.NOT_CANCELLABLE;
          return [encodeCancelFlightInfoResult(status)];
        },
      },
      {
        type: 'RenewFlightEndpoint',
        description: 'Standard Flight action: extend the expiration time of a FlightEndpoint\'s ticket. Returns the renewed FlightEndpoint.',
        run: async (body, principal, call) => {
          const endpoint = decodeRenewFlightEndpointRequest(body);
          if (!endpoint) throw invalidArgument('RenewFlightEndpoint needs a RenewFlightEndpointRequest with an endpoint');
          const ticket = tickets.decode(endpoint.ticket, principalKey(principal));
          await access.authorize(principal, 'read', ticket.dataset, call);
          await catalog.get(ticket.dataset);
          // A range of segments stays that range: the endpoint is one of several.
          const fresh = ctx.issueTicket(ticket.dataset, principal, ticket.segments);
          return [encodeEndpoint({ ...endpoint, ticket: fresh.ticket, expirationTime: timestampFromDate(new Date(fresh.expiresAt)) })];
        },
      },
      {
        type: 'CloseSession',
        description: 'Standard Flight action: end the session whose token this call carries. Returns CloseSessionResult.',
        run: async (_body, principal, call) => {
          const closed = await access.closeSession(principal, call);
          ctx.sessionClosed?.(principal);
          return [encodeCloseSessionResult(closed ? CloseSessionStatus.CLOSED : CloseSessionStatus.NOT_CLOSEABLE)];
        },
      },
      {
        type: 'refresh',
        description:
          'Returns a fresh session token for the valid one this call carries: JSON {"token_type": "Bearer", "access_token", "expires_in"}. The old token then works only for the rotation grace period.',
        run: async (_body, principal, call) => {
          const s = await access.refreshSession(principal, call);
          return [json({ token_type: 'Bearer', access_token: s.token, expires_in: s.expiresIn })];
        },
      },
      {
        type: 'ping',
        description: 'Checks that the server answers. Returns {"ok": true, "time": ISO-8601}.',
        run: async () => [json({ ok: true, time: new Date().toISOString() })],
      },
      {
        type: 'describe',
        description:
          'Describes a dataset: body {"dataset": "name"} (or the bare name). Returns JSON with kind, writable, rows, bytes and schema.',
        run: async (body, principal, call) => {
          const name = datasetFromBody(body);
          const { info, schema, dataset: ds } = await describeFlight(name, principal, call);
          return [
            json({
              dataset: name,
              kind: ds.kind,
              writable: ds.writable,
              rows: info.totalRecords,
              bytes: info.totalBytes,
              schema: schema.fields.map((f) => ({ name: f.name, type: String(f.type), nullable: f.nullable })),
            }),
          ];
        },
      },
      {
        type: 'drop',
        description: 'Deletes an uploaded dataset: body {"dataset": "name"} (or the bare name). Needs write access; files in the data directory are never deleted.',
        run: async (body, principal, call) => {
          const name = datasetFromBody(body);
          await access.authorize(principal, 'write', name, call);
          await catalog.drop(name);
          return [json({ dropped: name })];
        },
      },
    ];
    for (const a of builtins) this.register(a);
  }

  /** Adds an action; its type must be new. */
  register(action: ActionDefinition): void {
    if (this.actions.has(action.type)) throw new Error(`an action "${action.type}" is registered already`);
    this.actions.set(action.type, action);
  }

  list(): ActionType[] {
    return [...this.actions.values()].map(({ type, description }) => ({ type, description }));
  }

  async run(action: Action, principal: Principal, call: ServerCall): Promise<Uint8Array[]> {
    const def = this.actions.get(action.type);
    if (!def) {
      throw unimplemented(`unknown action "${action.type.slice(0, 64)}"; ListActions shows the supported ones`);
    }
    return def.run(action.body, principal, call);
  }
}
