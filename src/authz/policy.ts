/**
 * Authorization policy: roles grant actions on dataset patterns. Pure evaluation, no I/O; the
 * caller builds a Policy from the registry's grants and keeps it while they are current.
 */
import type { DatasetAction } from '../core/actions.js';
import { compilePattern } from './pattern.js';

export interface PolicyGrant {
  readonly role: string;
  readonly pattern: string;
  readonly action: DatasetAction;
}

/** The actions a granted action includes. */
const IMPLIED: Record<DatasetAction, readonly DatasetAction[]> = {
  admin: ['admin', 'write', 'read', 'list'],
  write: ['write'],
  read: ['read', 'list'],
  list: ['list'],
};

interface CompiledGrant {
  matches: (name: string) => boolean;
  actions: ReadonlySet<DatasetAction>;
}

export class Policy {
  private readonly byRole = new Map<string, CompiledGrant[]>();

  constructor(grants: readonly PolicyGrant[]) {
    for (const g of grants) {
      const list = this.byRole.get(g.role) ?? [];
      list.push({ matches: compilePattern(g.pattern), actions: new Set(IMPLIED[g.action]) });
      this.byRole.set(g.role, list);
    }
  }

  allows(roles: readonly string[], action: DatasetAction, dataset: string): boolean {
    for (const role of roles) {
      for (const g of this.byRole.get(role) ?? []) {
        if (g.actions.has(action) && g.matches(dataset)) return true;
      }
    }
    return false;
  }
}
