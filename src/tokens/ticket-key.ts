/**
 * The key that signs tickets, shared by the replicas through the registry and kept there
 * encrypted like the signing keys. A key stored in clear by an earlier version is encrypted in place.
 */
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../config/load.js';
import type { SecretStore } from '../stores/secret-store.js';
import type { KeyEncryptionKey } from './key-encryption.js';

const TICKET_KEY = 'ticket-hmac-key';

export async function ticketKey(secrets: SecretStore, kek: KeyEncryptionKey): Promise<Buffer> {
  const stored = await secrets.get(TICKET_KEY, () => kek.encrypt(randomBytes(32).toString('base64'), TICKET_KEY));
  if (stored.startsWith('v1.')) {
    try {
      return Buffer.from(kek.decrypt(stored, TICKET_KEY), 'base64');
    } catch {
      throw new ConfigError('the ticket key in the registry does not decrypt with this key-encryption key (tokens.keyEncryptionKey): every replica must use the same one');
    }
  }
  await secrets.replace(TICKET_KEY, stored, kek.encrypt(stored, TICKET_KEY));
  return Buffer.from(stored, 'base64');
}
