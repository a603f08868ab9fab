/**
 * Authorization policy: roles grant actions on dataset patterns, and a read grant may restrict
 * rows and columns. Pure evaluation, no I/O; the caller builds a Policy from the registry's and
 * the config file's grants and keeps it while they are current.
 */
import type { DatasetAction } from '../core/actions.js';
import { compilePattern } from './pattern.js';
import { restricts, type ReadPolicy } from '../core/read-policy.js';

export interface PolicyGrant {
  readonly role: string;
  readonly pattern: string;
  readonly action: DatasetAction;
  /** On a read grant: the rows and columns it shows (absent: all of them). */
  readonly policy?: ReadPolicy;
  /** Where the grant is declared: the registry (default) or the config file. */
  readonly source?: 'registry' | 'config';
}

/** A grant's id, as audit lines and `policy test` name it. */
export const grantId = (g: Pick<PolicyGrant, 'role' | 'pattern' | 'source'>): string => `${g.source === 'config' ? 'config:' : ''}${g.role}:${g.pattern}`;

/** A read grant with restrictions, as it applies to one dataset. */
export interface RestrictedGrant {
  readonly id: string;
  readonly policy: ReadPolicy;
}

/** What a caller who may read a dataset gets of it. */
export type ReadScope =
  | { readonly kind: 'all'; readonly grants: readonly string[] }
  | { readonly kind: 'restricted'; readonly grants: readonly RestrictedGrant[] };

/** The actions a granted action includes. */
const IMPLIED: Record<DatasetAction, readonly DatasetAction[]> = {
  admin: ['admin', 'write', 'read', 'list'],
  write: ['write'],
  read: ['read', 'list'],
  list: ['list'],
};

interface CompiledGrant {
  id: string;
  matches: (name: string) => boolean;
  actions: ReadonlySet<DatasetAction>;
  /** Set on read grants that restrict rows or columns. */
  restriction?: ReadPolicy;
}

export class Policy {
  private readonly byRole = new Map<string, CompiledGrant[]>();
  /** Whether any grant restricts rows or columns (else every read is whole). */
  readonly hasRestrictions: boolean;

  constructor(grants: readonly PolicyGrant[]) {
    let restricted = false;
    for (const g of grants) {
      const list = this.byRole.get(g.role) ?? [];
      const restriction = g.action === 'read' && restricts(g.policy) ? g.policy : undefined;
      if (restriction) restricted = true;
      list.push({ id: grantId(g), matches: compilePattern(g.pattern), actions: new Set(IMPLIED[g.action]), ...(restriction ? { restriction } : {}) });
      this.byRole.set(g.role, list);
    }
    this.hasRestrictions = restricted;
  }

  allows(roles: readonly string[], action: DatasetAction, dataset: string): boolean {
    for (const role of roles) {
      for (const g of this.byRole.get(role) ?? []) {
        if (g.actions.has(action) && g.matches(dataset)) return true;
      }
    }
    return false;
  }

  /**
   * What `roles` may read of `dataset`: everything when any grant that allows the read is
   * unrestricted, else the restricted grants (combined by the view: any of them shows a row).
   * Undefined when no grant allows reading it.
   */
  readScope(roles: readonly string[], dataset: string): ReadScope | undefined {
    const whole: string[] = [];
    const restricted: RestrictedGrant[] = [];
    for (const role of new Set(roles)) {
      for (const g of this.byRole.get(role) ?? []) {
        if (!g.actions.has('read') || !g.matches(dataset)) continue;
        if (g.restriction) restricted.push({ id: g.id, policy: g.restriction });
        else whole.push(g.id);
      }
    }
    if (whole.length) return { kind: 'all', grants: whole };
    if (restricted.length) return { kind: 'restricted', grants: restricted };
    return undefined;
  }
}
