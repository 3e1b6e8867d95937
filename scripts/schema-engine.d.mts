export type SchemaProvider = 'sqlite' | 'postgresql';
export interface SchemaPaths {
  schema: string;
  migrations: string;
}
export function layout(provider: SchemaProvider): SchemaPaths;
export function diffToSchema(
  provider: SchemaProvider,
  from: 'empty' | 'migrations',
  shadowUrl?: string,
  paths?: SchemaPaths,
): Promise<{ exitCode: number; sql: string }>;
