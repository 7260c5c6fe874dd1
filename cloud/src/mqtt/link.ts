import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

/**
 * One MQTT connection for publishing, connected on demand and thrown away when it drops.
 *
 * mqtt.js would otherwise keep unacknowledged QoS 1 publishes and resend them after a reconnect;
 * an old retained revision resent after a newer one was published would win on the broker. A
 * fresh client per connection has an empty store, so only what the caller publishes now goes out.
 */
export interface PublishLink {
  /** Connects if needed; answers false (with the reason in lastError) when the broker is unreachable. */
  ensure(): Promise<boolean>;
  /** Resolves on PUBACK (QoS 1); rejects when not connected, on disconnect, or after timeoutMs. */
  publish(topic: string, payload: string | Uint8Array, opts: { retain: boolean }): Promise<void>;
  readonly lastError: string | null;
  /** Called after every new connection (e.g. to republish what an in-memory broker forgot). */
  onConnect(fn: () => void): void;
  close(): Promise<void>;
}

/**
 * mqtt.js's own debug lines only when DEBUG asks for them: its default logger is called about ten
 * times per publish and checks its namespaces each time, ~10 % of the client's CPU per message
 * (2,000 QoS 1 publishes: 37-40 ms of CPU against 43-44). The link reports connects and drops itself.
 */
const mqttDebug: Pick<IClientOptions, 'log'> = /mqttjs/.test(globalThis.process?.env?.DEBUG ?? '') ? {} : { log: () => {} };

/** mqtt.js sends a string or a Buffer; other bytes are viewed as a Buffer, not copied. */
const asSent = (payload: string | Uint8Array): string | Buffer =>
  typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);

export function createPublishLink(opts: {
  url: string;
  username?: string;
  password?: string;
  clientIdPrefix: string;
  timeoutMs?: number;
  log?: (l: string) => void;
  /** Opens the client (default mqtt.js's own transports; the Workers entry passes one over `connect()` sockets). */
  connect?: (url: string, options: IClientOptions) => MqttClient;
}): PublishLink {
  const log = opts.log ?? (() => {});
  const timeoutMs = opts.timeoutMs ?? 10_000;
  let client: MqttClient | null = null;
  let connecting: Promise<boolean> | null = null;
  let lastError: string | null = null;
  let closed = false;
  const listeners: (() => void)[] = [];

  function drop(c: MqttClient, why: string): void {
    if (client === c) {
      client = null;
      lastError = why;
      log(`mqtt: ${opts.clientIdPrefix} disconnected from ${opts.url}: ${why}`);
    }
    c.end(true);
  }

  async function connect(): Promise<boolean> {
    const c = (opts.connect ?? mqtt.connect)(opts.url, {
      clientId: `${opts.clientIdPrefix}-${randomBytes(4).toString('hex')}`,
      username: opts.username,
      password: opts.password,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
      clean: true,
      ...mqttDebug,
    });
    c.on('error', () => {}); // reported through 'close' and the connect result
    const ok = await new Promise<boolean>((resolve) => {
      c.once('connect', () => resolve(true));
      c.once('close', () => resolve(false));
      c.once('error', (e) => {
        lastError = e.message;
        resolve(false);
      });
    });
    if (!ok || closed) {
      lastError ??= 'connection closed';
      c.end(true);
      return false;
    }
    client = c;
    lastError = null;
    c.once('close', () => drop(c, 'connection closed'));
    log(`mqtt: ${opts.clientIdPrefix} connected to ${opts.url}`);
    for (const fn of listeners) fn();
    return true;
  }

  return {
    get lastError() {
      return lastError;
    },
    onConnect(fn) {
      listeners.push(fn);
    },
    async ensure() {
      if (closed) return false;
      if (client?.connected) return true;
      connecting ??= connect().finally(() => (connecting = null));
      return connecting;
    },
    publish(topic, payload, { retain }) {
      const c = client;
      if (!c?.connected) return Promise.reject(new Error(`broker not connected${lastError ? `: ${lastError}` : ''}`));
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          // A publish that never got its PUBACK: drop the connection so it is never resent.
          drop(c, `no PUBACK within ${timeoutMs} ms`);
          reject(new Error(`no PUBACK within ${timeoutMs} ms`));
        }, timeoutMs);
        c.publish(topic, asSent(payload), { qos: 1, retain }, (err) => {
          clearTimeout(timer);
          if (err) reject(err);
          else resolve();
        });
      });
    },
    async close() {
      closed = true;
      const c = client;
      client = null;
      if (c) await c.endAsync(true).catch(() => {});
    },
  };
}
