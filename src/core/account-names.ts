/** Names of accounts and roles (users, roles, OAuth clients, API keys): one alphabet for all. */
import { invalidArgument } from './errors.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,127}$/;

export function checkName(kind: 'user' | 'role' | 'client' | 'API key', name: string): string {
  if (!NAME.test(name)) {
    throw invalidArgument(`invalid ${kind} name ${JSON.stringify(name.slice(0, 140))}: use 1-128 letters, digits and _ . @ + - (starting with a letter or digit)`);
  }
  return name;
}
