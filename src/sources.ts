/** Creating connectors from source configs: one line per source kind. */
import { FhirConnector } from '../connectors/fhir/connector';
import { MongoConnector } from '../connectors/mongo/connector';
import { SqlConnector } from '../connectors/sql/connector';
import type { Connector } from '../connectors/types';
import type { SourceConfig } from './config/schema';
import type { Logger } from './logger';

export function createConnector(config: SourceConfig, log: Logger): Connector {
  switch (config.kind) {
    case 'fhir':
      return new FhirConnector(config, log.child({ source: config.id }));
    case 'mongo':
      return new MongoConnector(config, log.child({ source: config.id }));
    case 'sql':
      return new SqlConnector(config, log.child({ source: config.id }));
  }
}
