import mqtt, { type MqttClient } from 'mqtt';

/** Connects once (no reconnect) as `username` with clientId = username unless told otherwise. */
export function connectAs(
  url: string,
  username: string | undefined,
  password: string | undefined,
  opts: { clientId?: string; protocolVersion?: 4 | 5; will?: mqtt.IClientOptions['will'] } = {},
): Promise<MqttClient> {
  return mqtt.connectAsync(url, {
    clientId: opts.clientId ?? username ?? `anon-${Math.random().toString(36).slice(2)}`,
    username,
    password,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
    protocolVersion: opts.protocolVersion ?? 4,
    will: opts.will,
  });
}

/** Collects messages per topic. */
export function collect(client: MqttClient): Map<string, Buffer[]> {
  const got = new Map<string, Buffer[]>();
  client.on('message', (topic, payload) => {
    const list = got.get(topic) ?? [];
    list.push(payload);
    got.set(topic, list);
  });
  return got;
}

/** Answers the granted QoS per filter (128 = refused, MQTT 3.1.1 §3.9.3). */
export async function subscribeCodes(client: MqttClient, filters: string[]): Promise<number[]> {
  try {
    const granted = await client.subscribeAsync(filters, { qos: 1 });
    return granted.map((g) => g.qos);
  } catch (err) {
    // mqtt.js rejects when any filter is refused; the SUBACK it carries has every code.
    const packet = (err as { packet?: { granted?: Array<number | { qos: number }> } }).packet;
    if (!packet?.granted) throw err;
    return packet.granted.map((g) => (typeof g === 'number' ? g : g.qos));
  }
}

export function endQuietly(c: MqttClient | undefined): Promise<void> {
  if (!c) return Promise.resolve();
  return c.endAsync(true).catch(() => {});
}
