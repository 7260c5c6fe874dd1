import { connect } from 'cloudflare:sockets';
import { Duplex } from 'node:stream';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

/**
 * An mqtt.js client over a raw TCP (or TLS) socket from workerd's `connect()`: MQTT 3.1.1/5 on
 * the broker's ordinary listener (1883, 8883 for mqtts://), so a Workers deployment needs no
 * WebSocket listener. mqtt.js does the protocol; this only hands it the socket as a stream.
 * Each (re)connect opens a new socket.
 */
export function socketMqttConnect(url: string, options: IClientOptions): MqttClient {
  const u = new URL(url);
  if (u.protocol !== 'mqtt:' && u.protocol !== 'mqtts:') throw new Error(`the Workers entry reaches brokers at mqtt:// or mqtts:// URLs, not ${u.protocol}`);
  const tls = u.protocol === 'mqtts:';
  const port = Number(u.port || (tls ? 8883 : 1883));
  const user = u.username ? { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) } : {};
  return new mqtt.MqttClient(
    () => {
      const socket = connect({ hostname: u.hostname.replace(/^\[|\]$/g, ''), port }, { secureTransport: tls ? 'on' : 'off' });
      return Duplex.fromWeb({ readable: socket.readable, writable: socket.writable });
    },
    { ...user, ...options },
  );
}
