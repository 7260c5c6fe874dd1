import type { IClientOptions, MqttClient } from 'mqtt';
import { socketMqttConnect } from './mqtt-socket.ts';
import { webSocketMqttConnect } from './mqtt-websocket.ts';

/**
 * How the Worker reaches the broker, by the scheme of its URL: mqtt:// and mqtts:// over a raw
 * TCP/TLS socket from `connect()` (the default, README "Deploy to Cloudflare" says why), ws:// and
 * wss:// over an outbound WebSocket for brokers that expose only that.
 */
export function workerMqttConnect(url: string, options: IClientOptions): MqttClient {
  const scheme = new URL(url).protocol;
  if (scheme === 'ws:' || scheme === 'wss:') return webSocketMqttConnect(url, options);
  if (scheme === 'mqtt:' || scheme === 'mqtts:') return socketMqttConnect(url, options);
  throw new Error(`MQTT_URL: the Worker reaches brokers at mqtt://, mqtts://, ws:// or wss:// URLs, not ${scheme}`);
}
