import { invalidArgument } from '../core/errors.js';

const DATASET_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** Dataset names double as directory names, so they are kept to a safe alphabet. */
export function checkDatasetName(name: string): string {
  if (!DATASET_NAME.test(name) || name.includes('..')) {
    throw invalidArgument(
      `invalid dataset name ${JSON.stringify(name.slice(0, 140))}: use 1-128 letters, digits, '_', '-' or '.', not starting with '.' or '-'`,
    );
  }
  return name;
}

export function isValidDatasetName(name: string): boolean {
  return DATASET_NAME.test(name) && !name.includes('..');
}
