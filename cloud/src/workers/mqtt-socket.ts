import { connect } from 'cloudflare:sockets';
import { Duplex } from 'node:stream';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { joinedChunks } from './joined-chunks.ts';

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
  return new mqtt.MqttClient(() => socketStream(u.hostname.replace(/^\[|\]$/g, ''), port, tls), { ...user, ...options });
}

/**
 * The socket's web streams as a Node Duplex. Written by hand: workerd's `Duplex.fromWeb` throws
 * "destroy is not defined" when the stream is destroyed (an unhandled rejection at every close).
 */
function socketStream(hostname: string, port: number, tls: boolean): Duplex {
  const socket = connect({ hostname, port }, { secureTransport: tls ? 'on' : 'off' });
  const reader = socket.readable.getReader();
  const writer = socket.writable.getWriter();
  let reading = false;
  const stream = new Duplex({
    // The broker closing its side ends the stream, so mqtt.js sees 'close' and reconnects (as over
    // a net.Socket): half-open, a DISCONNECT from the broker left the client waiting forever.
    allowHalfOpen: false,
    read() {
      if (reading) return;
      reading = true;
      reader.read().then(
        ({ done, value }) => {
          reading = false;
          this.push(done ? null : Buffer.from(value));
        },
        (err: Error) => this.destroy(err),
      );
    },
    write(chunk: Buffer, _encoding, done) {
      writer.write(new Uint8Array(chunk)).then(() => done(), done);
    },
    // mqtt.js (mqtt-packet) writes a packet as several chunks between cork() and uncork(): one
    // socket write for all of them, not one awaited write each.
    writev(chunks: { chunk: Buffer }[], done) {
      writer.write(joinedChunks(chunks)).then(() => done(), done);
    },
    // final() and destroy() call back at once, not when close() settles: it waits for the writes
    // in flight, and a write met by a reset may never settle in workerd. mqtt.js sees 'close', and
    // reconnects, only once the stream has ended both ways.
    final(done) {
      writer.close().catch(() => {});
      done();
    },
    destroy(err, done) {
      socket.close().catch(() => {});
      done(err);
    },
  });
  // The broker closed its side: the session is over, whatever the writable side is doing (a write
  // that never settles keeps it from finishing). Mosquitto kicking the dynamic-security admin as it
  // sent a command left the client connected in mqtt.js's eyes until its next write failed.
  stream.once('end', () => stream.destroy());
  // A connection lost (a reset, workerd's "Network connection lost") rejects these: it ends the
  // stream even when no read or write is pending.
  const lost = (err: Error) => stream.destroy(err);
  socket.closed.catch(lost);
  reader.closed.catch(lost);
  writer.closed.catch(lost);
  return stream;
}
