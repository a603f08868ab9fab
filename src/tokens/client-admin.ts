/**
 * Managing OAuth clients: secrets are generated here, shown once, stored only as SHA-256.
 * Rotating a secret, disabling or deleting a client also revokes its refresh-token families.
 */
import { checkName } from '../core/account-names.js';
import { invalidArgument } from '../core/errors.js';
import type { ClientRecord, ClientRegistry } from '../stores/client-registry.js';
import type { RefreshTokenStore } from '../stores/refresh-token-store.js';
import { hashSecret, newClientId, newClientSecret } from './client-secrets.js';

const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/;

export interface ClientView {
  readonly client_id: string;
  readonly name: string;
  readonly roles: readonly string[];
  readonly scopes: readonly string[];
  readonly disabled: boolean;
  readonly created_at: string;
  readonly secret_rotated_at: string;
}

export const clientView = (c: ClientRecord): ClientView => ({
  client_id: c.clientId,
  name: c.name,
  roles: c.roles,
  scopes: c.scopes,
  disabled: c.disabled,
  created_at: new Date(c.createdAt).toISOString(),
  secret_rotated_at: new Date(c.secretRotatedAt).toISOString(),
});

export class ClientAdmin {
  constructor(
    private readonly clients: ClientRegistry,
    private readonly refresh: RefreshTokenStore,
  ) {}

  /** Creates a client; the returned secret is never stored and cannot be shown again. */
  async add(name: string, roles: readonly string[], scopes: readonly string[]): Promise<{ client: ClientView; clientSecret: string }> {
    checkName('client', name);
    for (const s of scopes) if (!SCOPE.test(s)) throw invalidArgument(`invalid scope ${JSON.stringify(s.slice(0, 140))}: printable ASCII without spaces, quotes or backslashes`);
    const clientId = newClientId(name);
    const clientSecret = newClientSecret();
    await this.clients.add({ clientId, name, secretHash: hashSecret(clientSecret), roles, scopes });
    const created = await this.clients.get(clientId);
    return { client: clientView(created!), clientSecret };
  }

  async list(): Promise<ClientView[]> {
    return (await this.clients.list()).map(clientView);
  }

  async rotateSecret(idOrName: string): Promise<{ client: ClientView; clientSecret: string }> {
    const clientSecret = newClientSecret();
    const client = await this.clients.setSecret(idOrName, hashSecret(clientSecret));
    await this.refresh.revokeFamiliesOf({ clientId: client.clientId }, Date.now(), 'client secret rotated');
    return { client: clientView(client), clientSecret };
  }

  async setDisabled(idOrName: string, disabled: boolean): Promise<ClientView> {
    const client = await this.clients.setDisabled(idOrName, disabled);
    if (disabled) await this.refresh.revokeFamiliesOf({ clientId: client.clientId }, Date.now(), 'client disabled');
    return clientView(client);
  }

  async delete(idOrName: string): Promise<ClientView> {
    const client = await this.clients.delete(idOrName);
    await this.refresh.revokeFamiliesOf({ clientId: client.clientId }, Date.now(), 'client deleted');
    return clientView(client);
  }
}
