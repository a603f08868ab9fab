/**
 * The key that signs tickets, shared by the replicas through the registry and kept there
 * encrypted like the signing keys. A key stored in clear by an earlier version is encrypted in place.
 */
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../config/load.js';
import type { SecretStore } from '../stores/secret-store.js';
import type { KeyEncryptionKey } from './key-encryption.js';

const TICKET_KEY = 'ticket-hmac-key';

const KEY_BYTES = 32;

/** A key shorter than 32 bytes (a damaged or hand-edited registry row) would sign tickets weakly: refuse it. */
function checkedKey(base64: string, where: string): Buffer {
  const key = Buffer.from(base64, 'base64');
  if (key.length !== KEY_BYTES) throw new ConfigError(`the ticket key ${where} is ${key.length} bytes, not ${KEY_BYTES}: delete the "${TICKET_KEY}" row of fg_secrets to make a new one (tickets already issued stop working)`);
  return key;
}

export async function ticketKey(secrets: SecretStore, kek: KeyEncryptionKey): Promise<Buffer> {
  const stored = await secrets.get(TICKET_KEY, () => kek.encrypt(randomBytes(KEY_BYTES).toString('base64'), TICKET_KEY));
  if (stored.startsWith('v1.')) {
    let plain: string;
    try {
      plain = kek.decrypt(stored, TICKET_KEY);
    } catch {
      throw new ConfigError('the ticket key in the registry does not decrypt with this key-encryption key (tokens.keyEncryptionKey): every replica must use the same one, and the stored key must be intact');
    }
    return checkedKey(plain, 'in the registry');
  }
  const key = checkedKey(stored, 'stored in clear by an earlier version');
  await secrets.replace(TICKET_KEY, stored, kek.encrypt(stored, TICKET_KEY));
  return key;
}
