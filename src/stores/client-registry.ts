/** OAuth clients (machines using client_credentials): the port the SQL registry implements. */
export interface ClientRecord {
  readonly clientId: string;
  readonly name: string;
  /** SHA-256 (hex) of the generated secret; the secret itself is never stored. */
  readonly secretHash: string;
  readonly roles: readonly string[];
  readonly scopes: readonly string[];
  readonly disabled: boolean;
  readonly createdAt: number;
  readonly secretRotatedAt: number;
}

export interface ClientRegistry {
  /** Throws ALREADY_EXISTS for a taken name, NOT_FOUND for an unknown role. */
  add(client: { clientId: string; name: string; secretHash: string; roles: readonly string[]; scopes: readonly string[] }): Promise<void>;
  /** By client_id or by name. */
  get(idOrName: string): Promise<ClientRecord | undefined>;
  list(): Promise<ClientRecord[]>;
  setSecret(idOrName: string, secretHash: string): Promise<ClientRecord>;
  setDisabled(idOrName: string, disabled: boolean): Promise<ClientRecord>;
  delete(idOrName: string): Promise<ClientRecord>;
}
