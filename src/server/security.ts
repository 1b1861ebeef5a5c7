/**
 * The gateway's security services, built once from the config and used per request: authenticate
 * the caller, admit it under its rate limit, build its AccessPolicy (compartment, consent, labels),
 * and write the request's audit event. The HTTP layer calls these in that order, before and after
 * GraphQL runs; resolvers never see any of it except through the data-access layer.
 */
import { dirname, join } from 'node:path';
import type { IncomingHttpHeaders } from 'node:http';
import type { CallContext } from '../../connectors/types';
import { createAuthenticator } from '../auth/authenticate';
import type { ConsentConfig } from '../auth/config';
import type { Principal } from '../auth/principal';
import type { AuditRecorder, AuditEventInput } from '../audit/recorder';
import { AuditStore, type AuditQuery, type StoredEvent } from '../audit/store';
import type { GatewayConfig } from '../config/schema';
import { compartmentOf, Compartment, type PersonDirectory } from '../consent/compartment';
import { LabelIndex } from '../consent/labels';
import { ConsentAwarePolicy } from '../consent/policy';
import { ConsentStore, createSourceConsentLoader } from '../consent/store';
import type { AccessPolicy } from '../data/policy';
import type { SourceRegistry } from '../data/registry';
import { HealthgraphError } from '../errors';
import type { Logger } from '../logger';
import { memoryRateLimiter, redisRateLimiter, type RateDecision, type RateLimiter } from './ratelimit';

export interface Security {
  readonly mode: 'none' | 'jwt';
  authenticate(headers: IncomingHttpHeaders): Promise<Principal>;
  admit(principal: Principal): Promise<RateDecision>;
  policyFor(principal: Principal, audit: AuditRecorder, registry: SourceRegistry, call: CallContext): Promise<AccessPolicy>;
  /** Appends the event to the chain; throws when it cannot (the request then fails closed). */
  writeAudit(event: AuditEventInput): void;
  /** The audit trail, for callers whose token carries an admin scope. */
  readAudit(principal: Principal, query: AuditQuery): StoredEvent[];
  limitsFor(principal: Principal): { maxCost?: number; maxDepth?: number; persistedOnly: boolean; allowedHashes: ReadonlySet<string> };
  close(): Promise<void>;
}

export interface SecurityOptions {
  /** The config file, for the default audit location (next to it). */
  configPath?: string;
  log: Logger;
  /** The identity index: a patient-context token's compartment holds every record linked to its patient. */
  identity?: PersonDirectory;
}

/** The audit file: configured, else next to the config file, else in memory (tests, embedded use). */
export function auditLocation(config: GatewayConfig, configPath: string | undefined): string {
  if (config.audit.file) return configPath && !config.audit.file.startsWith('/') ? join(dirname(configPath), config.audit.file) : config.audit.file;
  return configPath ? join(dirname(configPath), 'audit.sqlite') : ':memory:';
}

function consentSettings(config: GatewayConfig): ConsentConfig | undefined {
  const enabled = config.consent?.enabled ?? (config.auth.mode === 'jwt' || config.consent !== undefined);
  if (!enabled) return undefined;
  return (
    config.consent ?? {
      default: 'opt-out',
      labels: {},
      restrictedLabels: ['HIV', 'PSY', 'SDV', 'SEX', 'STD'],
      redactedMarker: '[redacted]',
    }
  );
}

export function createSecurity(config: GatewayConfig, options: SecurityOptions): Security {
  const authenticator = createAuthenticator(config.auth);
  const auth = config.auth;
  const limiter: RateLimiter =
    auth.mode === 'jwt' && auth.rateLimit.redisUrl ? redisRateLimiter(auth.rateLimit.redisUrl) : memoryRateLimiter();
  const consent = consentSettings(config);
  const labels = consent ? new LabelIndex(consent.labels) : undefined;
  const store = consent ? ConsentStore.load(consent.store) : undefined;
  const auditOn = config.auth.mode === 'jwt' || config.audit.enabled;
  const audit = auditOn ? new AuditStore(auditLocation(config, options.configPath)) : undefined;
  const allowedHashes = new Set(auth.mode === 'jwt' ? auth.persistedQueries : []);

  return {
    mode: auth.mode,
    authenticate: (headers) => authenticator.authenticate(headers),
    async admit(principal) {
      if (auth.mode !== 'jwt' || !principal.clientId) return { allowed: true, retryAfter: 0, remaining: Infinity };
      const perMinute = principal.client?.rateLimit?.perMinute ?? auth.defaultRateLimit.perMinute;
      return limiter.take(principal.clientId, perMinute);
    },
    async policyFor(principal, recorder, registry, call) {
      let compartment: Compartment | undefined;
      if (principal.patient !== undefined) {
        try {
          compartment = await compartmentOf(principal.patient, registry, call, options.identity);
        } catch (error) {
          options.log.warn({ err: error }, 'patient compartment could not be resolved');
          compartment = new Compartment([]);
        }
      }
      const sourceConsents = consent ? createSourceConsentLoader(registry, consent.sources, call) : undefined;
      // A patient-context token's patients are known now: ask for their Consents alongside the
      // query's first reads (one batch, or in parallel) instead of after them. The loader is this
      // request's; its answers are used exactly as if they had been asked for later.
      if (sourceConsents && compartment) void sourceConsents.loadMany(compartment.members.map((m) => ({ source: m.source, id: m.id })));
      return new ConsentAwarePolicy({
        principal,
        compartment,
        audit: recorder,
        registry,
        call,
        consent: consent && labels && store && sourceConsents ? { config: consent, labels, store, sourceConsents } : undefined,
      });
    },
    writeAudit(event) {
      audit?.append(event);
    },
    readAudit(principal, query) {
      if (!principal.admin) throw new HealthgraphError('FORBIDDEN', 'Reading the audit trail needs an admin scope');
      if (!audit) return [];
      return audit.query(query);
    },
    limitsFor(principal) {
      const limits = principal.client?.limits ?? {};
      return { maxCost: limits.maxCost, maxDepth: limits.maxDepth, persistedOnly: principal.client?.persistedQueriesOnly ?? false, allowedHashes };
    },
    async close() {
      await limiter.close();
      audit?.close();
    },
  };
}
