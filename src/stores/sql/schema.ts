/** The registry's tables as kysely sees them. Times are ms since the epoch; flags are 0/1 integers so SQLite and PostgreSQL agree. */
export interface UsersTable {
  name: string;
  password_hash: string;
  disabled: number;
  sessions_not_before: number | string;
  created_at: number | string;
}

export interface RolesTable {
  name: string;
  created_at: number | string;
}

export interface UserRolesTable {
  user_name: string;
  role_name: string;
}

export interface GrantsTable {
  role_name: string;
  pattern: string;
  action: string;
}

export interface ReadPoliciesTable {
  role_name: string;
  pattern: string;
  row_filter: string | null;
  /** JSON: column → rule. */
  columns: string;
  updated_at: number | string;
}

export interface SecretsTable {
  name: string;
  value: string;
  created_at: number | string;
}

export interface ClientsTable {
  client_id: string;
  name: string;
  secret_hash: string;
  /** JSON arrays of strings. */
  roles: string;
  scopes: string;
  disabled: number;
  created_at: number | string;
  secret_rotated_at: number | string;
}

export interface ApiKeysTable {
  name: string;
  key_hash: string;
  roles: string;
  created_at: number | string;
  expires_at: number | string | null;
  revoked_at: number | string | null;
  /** The principal (principalKey) that made it on the access page; null for keys made by an administrator. */
  owner?: string | null;
  /** The name its owner gave it. */
  label?: string | null;
}

export interface DeviceCodesTable {
  device_hash: string;
  user_code: string;
  client_id: string;
  scope: string;
  created_at: number | string;
  expires_at: number | string;
  interval_ms: number | string;
  last_poll_at: number | string | null;
  status: string;
  subject: string | null;
  subject_kind: string | null;
  subject_issuer: string | null;
  roles: string | null;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: string;
  /** Encrypted with the key-encryption key; never stored in the clear. */
  private_key: string;
  created_at: number | string;
  retire_at: number | string | null;
}

export interface RefreshFamiliesTable {
  family_id: string;
  client_id: string | null;
  subject: string;
  subject_kind: string;
  subject_issuer: string | null;
  scope: string;
  roles: string;
  created_at: number | string;
  expires_at: number | string;
  revoked_at: number | string | null;
  revoked_reason: string | null;
}

export interface RefreshTokensTable {
  token_hash: string;
  family_id: string;
  parent_hash: string | null;
  issued_at: number | string;
  used_at: number | string | null;
}

export interface RegistryDatabase {
  fg_clients: ClientsTable;
  fg_api_keys: ApiKeysTable;
  fg_device_codes: DeviceCodesTable;
  fg_signing_keys: SigningKeysTable;
  fg_refresh_families: RefreshFamiliesTable;
  fg_refresh_tokens: RefreshTokensTable;
  fg_users: UsersTable;
  fg_roles: RolesTable;
  fg_user_roles: UserRolesTable;
  fg_grants: GrantsTable;
  fg_read_policies: ReadPoliciesTable;
  fg_secrets: SecretsTable;
}
