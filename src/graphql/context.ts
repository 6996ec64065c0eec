import type { Logger } from '../logger';
import type { Services } from '../services';

export interface Viewer {
  id: string;
  name: string;
  isAdmin: boolean;
  keyId: string;
}

export interface GraphQLContext {
  requestId: string;
  viewer: Viewer;
  services: Services;
  log: Logger;
}
