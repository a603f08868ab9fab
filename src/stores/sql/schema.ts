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

export interface SecretsTable {
  name: string;
  value: string;
  created_at: number | string;
}

export interface RegistryDatabase {
  fg_users: UsersTable;
  fg_roles: RolesTable;
  fg_user_roles: UserRolesTable;
  fg_grants: GrantsTable;
  fg_secrets: SecretsTable;
}
