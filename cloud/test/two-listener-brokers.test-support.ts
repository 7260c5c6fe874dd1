import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { MOSQUITTO_BIN, OwnMosquitto } from './mosquitto.test-support.ts';
import { freePorts } from './net.test-support.ts';

/** A broker reachable both ways: its ordinary TCP listener and its WebSocket listener. */
export interface TwoListenerBroker {
  name: string;
  tcpUrl: string;
  wsUrl: string;
  close(): Promise<void>;
}

/**
 * Brokers with a TCP and a WebSocket listener each, on loopback, so both transports reach the same
 * broker (the Workers transport test publishes through them; the agent's bundle test connects
 * through both): aedes (always; `ws` hands it each WebSocket as a stream, as aedes's own docs do)
 * and, where installed, a Mosquitto this process owns (`protocol websockets` on a second
 * listener), stopped by PID.
 */
export async function startTwoListenerBrokers(): Promise<TwoListenerBroker[]> {
  const out: TwoListenerBroker[] = [];
  const aedes = await Aedes.createBroker();
  const tcp: Server = createServer((socket) => aedes.handle(socket));
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', () => r()));
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('connection', (ws) => aedes.handle(createWebSocketStream(ws) as never));
  out.push({
    name: 'aedes',
    tcpUrl: `mqtt://127.0.0.1:${(tcp.address() as AddressInfo).port}`,
    wsUrl: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/mqtt`,
    async close() {
      for (const c of wss.clients) c.terminate();
      await new Promise((r) => wss.close(r));
      await new Promise((r) => tcp.close(r));
      await new Promise<void>((r) => aedes.close(() => r()));
    },
  });
  if (MOSQUITTO_BIN) {
    const [tcpPort, wsPort] = await freePorts(2);
    const m = await OwnMosquitto.create(() => `listener ${wsPort} 127.0.0.1\nprotocol websockets\nallow_anonymous true\nmax_queued_messages 10000`, tcpPort);
    await m.start();
    out.push({ name: 'mosquitto', tcpUrl: m.url, wsUrl: `ws://127.0.0.1:${wsPort}/mqtt`, close: () => m.dispose() });
  }
  return out;
}
