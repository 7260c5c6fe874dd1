import type { LimitBindings } from './rate-limits.ts';

/** The parts of workerd's Durable Object API this entry uses (Workers types stay out of the Node typecheck). */
interface DurableObjectStub {
  fetch(url: string, init?: RequestInit): Promise<Response>;
}
interface DurableObjectNamespace {
  idFromName(name: string): unknown;
  get(id: unknown): DurableObjectStub;
}
export interface DurableObjectState {
  storage: {
    get<T>(key: string): Promise<T | undefined>;
    put(key: string, value: unknown): Promise<void>;
    delete(key: string): Promise<boolean>;
    getAlarm(): Promise<number | null>;
    setAlarm(at: number): Promise<void>;
  };
}

/** Bindings, vars and secrets of the Workers deployment (wrangler.toml; README "Deploy to Cloudflare"). */
export interface Env extends LimitBindings {
  HYPERDRIVE?: { connectionString: string };
  DATABASE_URL?: string;
  /** The broker the Worker publishes to, with the cloud's own login: mqtt(s)://USER:PASSWORD@host:port, or ws(s)://…/mqtt for its WebSocket listener (a secret). */
  MQTT_URL?: string;
  /** The broker URL agents are told at enrollment (default: MQTT_URL without its credentials). */
  PUBLIC_MQTT_URL?: string;
  /** "on": MQTT_URL's user is Mosquitto's dynamic-security admin; enrollment creates each node's client there. */
  MQTT_DYNSEC?: string;
  /** "on": webhooks may point at private ranges and loopback (never link-local or metadata). */
  WEBHOOK_ALLOW_PRIVATE?: string;
  /** The bootstrap admin token to register (a secret), as LVSFLEET_ADMIN_TOKEN does for `serve`. */
  LVSFLEET_ADMIN_TOKEN?: string;
  /** Private signing keys are stored sealed under this secret (AES-GCM); rows stored plain still load. */
  SIGNING_KEY_SECRET?: string;
  /** The bearer token Prometheus scrapes `/metrics` with (a secret); without it `/metrics` is off. */
  METRICS_TOKEN?: string;
  /** Whole days of events and finished webhook deliveries kept, resolved alerts at least 30 (default 30; "0" keeps them all), as `serve --event-retention-days`. */
  EVENT_RETENTION_DAYS?: string;
  /** Public base URL of this deployment (links in Slack messages, the report URL agents are told). */
  PUBLIC_URL?: string;
  SITE_PUBLISHER: DurableObjectNamespace;
  ALERT_LOOP: DurableObjectNamespace;
  KEY_ROTATOR: DurableObjectNamespace;
}

/** The broker the Worker itself logs in to, credentials split off the URL. */
export function brokerOf(env: Env): { url: string; username?: string; password?: string } | null {
  if (!env.MQTT_URL) return null;
  const u = new URL(env.MQTT_URL);
  const username = u.username ? decodeURIComponent(u.username) : undefined;
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  u.username = '';
  u.password = '';
  return { url: u.toString().replace(/\/$/, ''), username, password };
}
