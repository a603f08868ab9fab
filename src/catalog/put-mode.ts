/** How an upload treats an existing dataset. */
export const PUT_MODES = ['create', 'append', 'replace'] as const;
export type PutMode = (typeof PUT_MODES)[number];
