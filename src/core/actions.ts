/** What a caller may do to a dataset; `admin` implies the others and `read` implies `list`. */
export const DATASET_ACTIONS = ['list', 'read', 'write', 'admin'] as const;
export type DatasetAction = (typeof DATASET_ACTIONS)[number];

export function isDatasetAction(value: string): value is DatasetAction {
  return (DATASET_ACTIONS as readonly string[]).includes(value);
}
