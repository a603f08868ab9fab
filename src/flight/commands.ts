/**
 * CMD descriptors, dispatched by their content as arrow-rs `arrow-flight` does with Flight SQL:
 * each registered command says which command bytes are its own and implements the RPCs it
 * supports. A descriptor no command claims is UNIMPLEMENTED, naming what is registered. Flight
 * SQL and any embedding application add commands here; nothing else in the service changes.
 */
import { unimplemented } from '../core/errors.js';
import type { Principal } from '../core/principal.js';
import type { AuthenticatedCall } from './binding.js';
import type { IncomingFlightData } from './codec.js';
import type { FlightDescriptor, FlightInfo } from './proto/messages.js';
import type { Schema } from 'apache-arrow';
import type { IpcMessage } from '../ipc/message.js';

/** A DoPut or DoExchange as a command sees it: the first FlightData (which carried the descriptor) and the rest. */
export interface CommandStream {
  readonly first: IncomingFlightData;
  /** The size of the first FlightData message as received. */
  readonly firstBytes: number;
  readonly rest: AsyncIterator<Uint8Array>;
}

/** A dataset as the calling principal may read it (after any row filter and column masks). */
export interface DatasetRead {
  readonly schema: Schema;
  /** The schema message, then dictionaries and record batches; `release` hands a body back once sent. */
  readonly messages: AsyncIterable<IpcMessage & { readonly release?: () => void }>;
  /** The grants that allowed the read, and whether a policy restricted it. */
  readonly grants: readonly string[];
  readonly restricted: boolean;
}

/**
 * A call as a command sees it. A command that reads datasets reads them with `readDataset`,
 * which authorizes the read and applies the caller's row and column policy (as DoGet does);
 * reading the catalog directly would bypass both.
 */
export interface CommandCall extends AuthenticatedCall {
  /** PERMISSION_DENIED unless the caller may read `name` (whether or not it exists). */
  readDataset(name: string): Promise<DatasetRead>;
}

export interface FlightCommand {
  /** For messages and listings: what the command bytes look like, e.g. `JSON {"dataset": …}`. */
  readonly name: string;
  /** Whether `cmd` (a CMD descriptor's bytes) is this command's. Cheap: it runs for every CMD call. */
  claims(cmd: Uint8Array): boolean;
  getFlightInfo?(c: CommandCall, descriptor: FlightDescriptor): Promise<FlightInfo>;
  /** The encapsulated IPC schema (SchemaResult.schema). */
  getSchema?(c: CommandCall, descriptor: FlightDescriptor): Promise<Uint8Array>;
  doPut?(c: CommandCall, descriptor: FlightDescriptor, stream: CommandStream): Promise<void>;
  doExchange?(c: CommandCall, descriptor: FlightDescriptor, stream: CommandStream): Promise<void>;
  /** Whether a DoGet ticket is one this command issued (Flight SQL tickets are Any messages). Cheap. */
  claimsTicket?(ticket: Uint8Array): boolean;
  /** DoGet of a ticket this command claims. */
  doGet?(c: CommandCall, ticket: Uint8Array): Promise<void>;
  /** CancelFlightInfo: the CancelStatus when the FlightInfo is this command's, else undefined. */
  cancelFlightInfo?(info: FlightInfo, principal: Principal): Promise<number | undefined>;
  /** The caller's session ended (CloseSession): drop what was kept for it. */
  sessionClosed?(principal: Principal): void;
}

export type CommandRpc = 'getFlightInfo' | 'getSchema' | 'doPut' | 'doExchange';

const RPC_NAMES: Record<CommandRpc, string> = { getFlightInfo: 'GetFlightInfo', getSchema: 'GetSchema', doPut: 'DoPut', doExchange: 'DoExchange' };

export class CommandRegistry {
  private readonly commands: FlightCommand[] = [];

  register(command: FlightCommand): void {
    if (this.commands.some((c) => c.name === command.name)) throw new Error(`a command named ${command.name} is registered already`);
    this.commands.push(command);
  }

  list(): readonly FlightCommand[] {
    return this.commands;
  }

  /** The command whose ticket this is, if any (otherwise the ticket names a dataset). */
  forTicket(ticket: Uint8Array): (FlightCommand & Required<Pick<FlightCommand, 'doGet'>>) | undefined {
    return this.commands.find((c) => c.doGet && c.claimsTicket?.(ticket)) as (FlightCommand & Required<Pick<FlightCommand, 'doGet'>>) | undefined;
  }

  /** The command that claims `cmd` and implements `rpc`; UNIMPLEMENTED otherwise, saying what exists. */
  resolve<R extends CommandRpc>(cmd: Uint8Array, rpc: R): FlightCommand & Required<Pick<FlightCommand, R>> {
    const command = this.commands.find((c) => c.claims(cmd));
    const shown = JSON.stringify(Buffer.from(cmd.subarray(0, 64)).toString('utf8'));
    if (!command) {
      throw unimplemented(`unknown command ${shown}; the commands this server knows: ${this.commands.map((c) => c.name).join('; ') || 'none'}`);
    }
    if (!command[rpc]) {
      const by = this.commands.filter((c) => c[rpc]).map((c) => c.name);
      throw unimplemented(`${RPC_NAMES[rpc]} does not take the command ${command.name}${by.length ? `; it takes ${by.join('; ')}` : ''}`);
    }
    return command as FlightCommand & Required<Pick<FlightCommand, R>>;
  }
}
