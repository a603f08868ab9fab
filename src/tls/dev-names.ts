/** What `certs dev` names when told nothing: kept apart so the CLI can show them without loading the certificate library. */
export const DEFAULT_DEV_HOSTS = ['localhost', '127.0.0.1', '::1'] as const;
export const DEFAULT_DEV_CLIENT = 'dev-client';
