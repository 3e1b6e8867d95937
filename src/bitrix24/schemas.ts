// Zod building blocks for Bitrix24 answers, which carry numbers as strings ("ID":"30"),
// flags as "Y"/"N", and empty objects as [] (PHP's empty array).
import { z } from 'zod';

/** An integer sent as a number or a numeric string; parsed to a number. */
export const b24Int = z
  .union([z.number().int(), z.string().regex(/^-?\d+$/, 'not an integer')])
  .transform(Number);

/** "Y" / "N" as Bitrix24 writes flags. */
export const b24Flag = z.enum(['Y', 'N']);

/** A boolean sent as true/false, "Y"/"N", 1/0 or "1"/"0". */
export const b24Bool = z
  .union([z.boolean(), z.enum(['Y', 'N', '1', '0', 'true', 'false']), z.literal(1), z.literal(0)])
  .transform((v) => v === true || v === 'Y' || v === '1' || v === 'true' || v === 1);

/** An object keyed by strings, where PHP may send `[]` for an empty one. */
export function b24Map<T extends z.ZodType>(value: T) {
  return z.preprocess((v) => (Array.isArray(v) && v.length === 0 ? {} : v), z.record(z.string(), value));
}

/** An ID parameter we send: a positive integer (numeric strings accepted, sent as numbers). */
export const idParam = z.union([z.number().int().positive(), z.string().regex(/^\d+$/).transform(Number)]);
