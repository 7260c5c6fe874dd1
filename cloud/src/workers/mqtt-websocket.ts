import { Duplex } from 'node:stream';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { joinedChunks } from './joined-chunks.ts';

/**
 * An mqtt.js client over an outbound WebSocket from workerd (MQTT over WebSocket, subprotocol
 * "mqtt", binary frames): for brokers reachable only through their WebSocket listener (ws://,
 * wss://). The same shape as the raw-socket adapter (./mqtt-socket.ts): mqtt.js does the protocol,
 * this hands it the connection as a stream; each (re)connect opens a new WebSocket. Credentials in
 * the URL go into MQTT's CONNECT, not into the HTTP upgrade.
 */
export function webSocketMqttConnect(url: string, options: IClientOptions): MqttClient {
  const u = new URL(url);
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new Error(`the WebSocket adapter reaches brokers at ws:// or wss:// URLs, not ${u.protocol}`);
  const user = u.username ? { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) } : {};
  u.username = '';
  u.password = '';
  const target = u.toString();
  return new mqtt.MqttClient(() => webSocketStream(target), { ...user, ...options });
}

/**
 * A WebSocket as a Node Duplex. Writes made before the upgrade completes wait for it; each binary
 * message is pushed as it comes (a WebSocket cannot be paused, and a publisher reads only acks).
 */
function webSocketStream(url: string): Duplex {
  const ws = new WebSocket(url, 'mqtt');
  ws.binaryType = 'arraybuffer';
  let failed: Error | null = null;
  const opened = new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve());
    ws.addEventListener('close', () => reject(failed ?? new Error(`WebSocket to ${url} closed before it opened`)));
  });
  opened.catch(() => {}); // a close before any write is reported through the stream
  const stream = new Duplex({
    // The WebSocket closing ends the stream and mqtt.js sees 'close' (see mqtt-socket.ts).
    allowHalfOpen: false,
    read() {},
    write(chunk: Buffer, _encoding, done) {
      opened.then(() => {
        ws.send(new Uint8Array(chunk));
        done();
      }, done);
    },
    // A corked write (mqtt-packet's chunks of one or more packets) as one frame, not a frame per
    // chunk: MQTT over WebSocket lets a frame hold several packets or parts of one.
    writev(chunks: { chunk: Buffer }[], done) {
      opened.then(() => {
        ws.send(joinedChunks(chunks));
        done();
      }, done);
    },
    final(done) {
      ws.close(1000);
      done();
    },
    destroy(err, done) {
      if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN) ws.close(1000);
      done(err);
    },
  });
  ws.addEventListener('message', (ev: MessageEvent) => {
    if (typeof ev.data === 'string') return stream.destroy(new Error('the broker sent a text frame; MQTT over WebSocket is binary'));
    stream.push(Buffer.from(ev.data as ArrayBuffer));
  });
  ws.addEventListener('error', (ev: Event) => {
    failed = new Error(`WebSocket to ${url}: ${(ev as ErrorEvent).message || 'error'}`);
    stream.destroy(failed);
  });
  ws.addEventListener('close', () => stream.push(null));
  return stream;
}
