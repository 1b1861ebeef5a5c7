/**
 * FHIR transaction Bundles as the demo generator writes them, and a builder that assigns
 * `urn:uuid` fullUrls and hands back the reference to use elsewhere in the same bundle.
 */
import type { FhirResource } from '../../connectors/types';

export interface FhirReference {
  reference: string;
  display?: string;
}

export interface FhirBundleEntry {
  fullUrl: string;
  resource: FhirResource;
  request: { method: 'POST'; url: string; ifNoneExist?: string };
}

export interface FhirBundle extends FhirResource {
  resourceType: 'Bundle';
  type: 'transaction';
  entry: FhirBundleEntry[];
}

export class BundleBuilder {
  private readonly entries: FhirBundleEntry[] = [];
  private readonly byUuid = new Map<string, FhirReference>();

  /** Adds a resource created by this bundle; returns a reference to it. */
  add(uuid: string, resource: FhirResource, display?: string): FhirReference {
    const existing = this.byUuid.get(uuid);
    if (existing) {
      return existing;
    }
    const fullUrl = `urn:uuid:${uuid}`;
    this.entries.push({ fullUrl, resource, request: { method: 'POST', url: resource.resourceType } });
    const reference: FhirReference = display ? { reference: fullUrl, display } : { reference: fullUrl };
    this.byUuid.set(uuid, reference);
    return reference;
  }

  /**
   * Adds a resource shared by many patients (an Organization, Practitioner or Location) as a
   * conditional create on its identifier, so loading many bundles stores it once.
   */
  addShared(uuid: string, resource: FhirResource, identifier: { system: string; value: string }, display?: string): FhirReference {
    const reference = this.add(uuid, resource, display);
    const entry = this.entries.find((e) => e.fullUrl === reference.reference);
    if (entry) {
      entry.request.ifNoneExist = `identifier=${encodeURIComponent(`${identifier.system}|${identifier.value}`)}`;
    }
    return reference;
  }

  build(): FhirBundle {
    return { resourceType: 'Bundle', type: 'transaction', entry: this.entries };
  }
}
