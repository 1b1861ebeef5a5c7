/** Settings every source kind shares; each connector's config.ts builds on these. */
import { z } from 'zod';

export const sourceIdSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,31}$/, 'use 1–32 lower-case letters, digits, "_" or "-", starting with a letter')
  .describe('Unique source id, used in gateway ids, errors, logs and metrics');
