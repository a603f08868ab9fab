/** Grants declared in the config file (`grants`), checked as the CLI checks those it stores. */
import type { DatasetAction } from '../core/actions.js';
import { isValidPattern } from './pattern.js';
import type { PolicyGrant } from './policy.js';
import { checkReadPolicy, PolicyError, type ReadPolicy } from '../core/read-policy.js';

export interface DeclaredGrant {
  readonly role: string;
  readonly dataset: string;
  readonly actions: readonly DatasetAction[];
  readonly rows?: string;
  readonly columns?: Readonly<Record<string, string>>;
}

/** The grants, one per action; throws PolicyError naming the entry that is wrong. */
export function configGrants(declared: readonly DeclaredGrant[]): PolicyGrant[] {
  const out: PolicyGrant[] = [];
  declared.forEach((d, i) => {
    const where = `grants[${i}] (role ${d.role}, dataset ${d.dataset})`;
    if (!isValidPattern(d.dataset)) throw new PolicyError(`${where}: invalid dataset pattern; dataset name characters plus * and ?`);
    const policy: ReadPolicy | undefined = d.rows !== undefined || d.columns ? { ...(d.rows !== undefined ? { rows: d.rows } : {}), ...(d.columns ? { columns: d.columns } : {}) } : undefined;
    if (policy) {
      if (!d.actions.includes('read')) throw new PolicyError(`${where}: rows and columns belong to a read grant; add "read" to its actions`);
      try {
        checkReadPolicy(policy);
      } catch (err) {
        throw new PolicyError(`${where}: ${(err as Error).message}`);
      }
    }
    for (const action of new Set(d.actions)) {
      out.push({ role: d.role, pattern: d.dataset, action, source: 'config', ...(action === 'read' && policy ? { policy } : {}) });
    }
  });
  return out;
}
