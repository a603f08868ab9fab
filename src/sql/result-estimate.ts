/**
 * How big the planner expects a result to be, from `EXPLAIN (FORMAT JSON)`: the estimated rows
 * of the topmost operator that has an estimate, times a width per row from the result's types.
 * It decides whether a result is computed whole (small ones: dense and parallel) or streamed.
 */
import { DataType, type Schema } from 'apache-arrow';

interface PlanNode {
  name?: string;
  children?: PlanNode[];
  extra_info?: Record<string, unknown>;
}

/**
 * The root's estimated rows, or undefined when the plan gives none. DuckDB knows nothing of a
 * filter's selectivity over our scans (they have no statistics) and passes the input's count
 * through; such a filter is taken to keep a fifth, DuckDB's own default elsewhere.
 */
export function estimatedRows(explainJson: string): number | undefined {
  let plan: unknown;
  try {
    plan = JSON.parse(explainJson);
  } catch {
    return undefined;
  }
  const root = (Array.isArray(plan) ? plan[0] : plan) as PlanNode | undefined;
  const est = root && estimate(root);
  return est && Number.isFinite(est.adjusted) ? est.adjusted : undefined;
}

const raw = (node: PlanNode): number | undefined => {
  const v = node.extra_info?.['Estimated Cardinality'];
  const n = typeof v === 'string' || typeof v === 'number' ? Number(v) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : undefined;
};

/** DuckDB's estimate of a node and ours: equal, or scaled down where a filter's went unestimated below. */
function estimate(node: PlanNode): { raw: number; adjusted: number } | undefined {
  const child = node.children?.[0] ? estimate(node.children[0]) : undefined;
  const own = raw(node) ?? child?.raw;
  if (own === undefined) return undefined;
  if (!child || own !== child.raw) {
    return node.name === 'FILTER' && child && own >= child.raw ? { raw: own, adjusted: child.adjusted * 0.2 } : { raw: own, adjusted: own };
  }
  const factor = child.raw > 0 ? child.adjusted / child.raw : 1;
  return { raw: own, adjusted: node.name === 'FILTER' ? own * factor * 0.2 : own * factor };
}

/** Bytes per row the engine holds for these columns (strings and nested values guessed). */
export function rowBytes(schema: Schema): number {
  let bytes = 0;
  for (const f of schema.fields) {
    const t = f.type;
    if (DataType.isBool(t)) bytes += 1;
    else if (DataType.isInt(t)) bytes += t.bitWidth / 8;
    else if (DataType.isFloat(t)) bytes += [2, 4, 8][t.precision] ?? 8;
    else if (DataType.isDecimal(t)) bytes += 16;
    else if (DataType.isDate(t) || DataType.isTime(t) || DataType.isTimestamp(t)) bytes += 8;
    else if (DataType.isInterval(t)) bytes += 16;
    else if (DataType.isUtf8(t) || DataType.isBinary(t) || DataType.isLargeUtf8(t) || DataType.isLargeBinary(t)) bytes += 32;
    else bytes += 64;
  }
  return Math.max(bytes, 1);
}
