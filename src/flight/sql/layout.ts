/**
 * How datasets appear to SQL clients. Each statement's engine connection holds the caller's
 * datasets as temporary views, and DuckDB puts temporary objects in the catalog `temp`, schema
 * `main`: so that is what metadata reports, and what fully qualified names (`temp.main.db1`,
 * which BI tools generate from that metadata) resolve to. A dataset's name is its table name;
 * names with `.` or `-` are quoted in SQL (`"sales.2024"`). The grant patterns that decide who
 * reads a dataset decide who sees its table, by the same name.
 */
export const SQL_CATALOG = 'temp';
export const SQL_SCHEMA = 'main';
/** Every dataset is a table; there are no views or system tables to list. */
export const TABLE_TYPE = 'TABLE';
export const TABLE_TYPES = [TABLE_TYPE] as const;
