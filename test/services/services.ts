import { startPostgres } from './postgres.js';
import { startRedisService } from './redis.js';
import { startMongodb } from './mongodb.js';

/**
 * The list of services the global setup starts. Each entry lives in its own file
 * (postgres.ts, redis.ts, mongodb.ts) and returns the values it provides and how to stop.
 */
export interface StartedService {
  provide: Record<string, unknown>;
  stop: () => Promise<void>;
}

export type ServiceStarter = () => Promise<StartedService>;

export interface Service {
  /** `postgres`, `redis`, `mongodb`: the names AGENT_SESSIONS_SERVICES selects by. */
  name: string;
  start: ServiceStarter;
}

export const ALL: Service[] = [
  { name: 'postgres', start: startPostgres },
  { name: 'redis', start: startRedisService },
  { name: 'mongodb', start: startMongodb },
];
