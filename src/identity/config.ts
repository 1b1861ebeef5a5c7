/** The `identity` section of the config: where the link store lives and how records are matched. */
import { z } from 'zod';

export const identitySchema = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .describe('Unify patients across sources: `patients` lists one Patient per person and every patient list spans all linked records'),
    store: z
      .discriminatedUnion('kind', [
        z
          .object({
            kind: z.literal('sqlite').describe('An embedded SQLite file'),
            file: z
              .string()
              .optional()
              .describe(
                "The link store file; relative paths are read from the config file's folder; default: `healthgraph-links.sqlite` next to the config file",
              ),
          })
          .strict(),
        z
          .object({
            kind: z.literal('memory').describe('In memory only: links are rebuilt from the sources at every start (tests, demos)'),
          })
          .strict(),
      ])
      .default({ kind: 'sqlite' })
      .describe('Where links, persons and manual decisions are kept; `kind`: sqlite (default) or memory'),
    weights: z
      .enum(['configured', 'estimated'])
      .default('configured')
      .describe(
        '`configured`: the default Fellegi–Sunter weights (docs/identity.md); `estimated`: EM on the candidate pairs at each build',
      ),
    thresholds: z
      .object({
        certain: z.number().optional().describe('Score (bits) at or above which a pair is `certain` (default 24)'),
        probable: z.number().optional().describe('Score at or above which a pair is `probable` (default 14)'),
        possible: z.number().optional().describe('Score at or above which a pair is `possible` (default 6)'),
      })
      .strict()
      .default({})
      .describe('Grade thresholds of the match score, in bits'),
    autoLink: z
      .enum(['certain'])
      .default('certain')
      .describe(
        'Which automatic links merge records into one person: only `certain` ones; `probable` pairs wait for a manual `linkPatients`',
      ),
    precedence: z
      .array(z.string())
      .optional()
      .describe('Source ids in the order their demographics win when records of one person disagree; default: the order of `sources`'),
    buildAtStart: z
      .boolean()
      .default(false)
      .describe(
        "Read every source's Patient records and link them when the gateway starts and the store is empty (otherwise run `healthgraph identity build`)",
      ),
    buildPageSize: z.number().int().min(10).max(10_000).default(500).describe('Patient records per request when building'),
  })
  .strict()
  .optional()
  .describe('Identity across sources (docs/identity.md); absent: every source record is a patient of its own');

export type IdentityConfig = NonNullable<z.infer<typeof identitySchema>>;
