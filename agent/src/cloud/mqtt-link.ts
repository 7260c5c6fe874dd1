import { connect, type MqttClient } from 'mqtt';
import { backoffDelayMs } from '#shared/util/backoff.ts';
import type { NodeEvent } from '#shared/wire/events.ts';
import { lastWill, type NodeStatus } from '#shared/wire/status.ts';
import { topics } from '#shared/wire/topics.ts';
import { turnOfTheLoop } from '../event-loop.ts';
import { settledWithin } from './settled-within.ts';
import { statusText } from './status-text.ts';

export interface MqttLinkOptions {
  url: string;
  username: string;
  password: string;
  nodeId: string;
  /** A payload arrived on our `desired` topic (retained on connect, or a new revision). */
  onDesired: (payload: string) => Promise<void>;
  log: (line: string) => void;
  /** Back-off bounds; tests shorten them. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** How long close() waits on the broker in all (CLOSE_WITHIN_MS); tests shorten it. */
  closeWithinMs?: number;
}

export interface MqttLink {
  publishStatus(s: NodeStatus): void;
  publishEvent(e: NodeEvent): void;
  connected(): boolean;
  /**
   * Publishes `final` retained (online:false) when connected, then disconnects: cleanly once the
   * broker has acknowledged every QoS 1 message in flight, else by dropping the connection (the
   * broker then publishes the last will, online:false too). Never waits longer than `closeWithinMs`.
   */
  close(final?: NodeStatus): Promise<void>;
}

const MAX_QUEUED_EVENTS = 1000;

/**
 * What a stop waits on the broker for the acknowledgements of the messages in flight, the final
 * status among them. mqtt.js's clean end alone waits for them for ever: a broker that stopped
 * answering held the agent's exit until systemd killed it (TimeoutStopSec=15), its node lock
 * left behind.
 */
const CLOSE_WITHIN_MS = 3000;

/**
 * The agent's broker link: subscribes its own `desired`, publishes status retained with a last
 * will `{nodeId, online:false}`, events at QoS 1 (queued, bounded, while the broker is away). It
 * reconnects forever with exponential back-off and equal jitter; the engine never waits for it.
 */
export function startMqttLink(o: MqttLinkOptions): MqttLink {
  let attempt = 0;
  let closed = false;
  let retry: NodeJS.Timeout | null = null;
  let lastStatus: NodeStatus | null = null;
  /** The status not yet sent on this connection (new, or the connection is new). */
  let statusPending = false;
  /** A send of the status waiting for the loop's next turn (`publishStatus`). */
  let statusTurn: Promise<void> | null = null;
  const events: NodeEvent[] = [];
  let desiredChain: Promise<void> = Promise.resolve();

  const client: MqttClient = connect(o.url, {
    username: o.username,
    password: o.password,
    clientId: o.nodeId,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0, // reconnects are ours: back-off with jitter
    connectTimeout: 10_000,
    keepalive: 30,
    // mqtt-packet's number cache: 65,536 two-byte Buffers made at the first packet, 6 MiB of an
    // idle agent's heap (a third of it) and ~15 ms of CPU, to save an allocation per packet for a
    // link that sends one every few seconds. Process-wide: every client in the process skips it.
    writeCache: false,
    will: { topic: topics.status(o.nodeId), payload: Buffer.from(JSON.stringify(lastWill(o.nodeId))), qos: 1, retain: true },
  });

  /**
   * Set at `connect`, cleared at `close`. mqtt.js reports itself connected at CONNACK, but emits
   * `connect` only once it has sent again (and had acknowledged) what was in flight at the last
   * drop; nothing newer goes out before, so an old retained status cannot land after a new one.
   */
  let ready = false;
  const flush = () => {
    if (!ready || !client.connected) return;
    if (lastStatus && statusPending) {
      client.publish(topics.status(o.nodeId), statusText(lastStatus), { qos: 1, retain: true });
      statusPending = false;
    }
    while (events.length && client.connected) client.publish(topics.events(o.nodeId), JSON.stringify(events.shift()), { qos: 1 });
  };

  client.on('connect', () => {
    ready = true;
    statusPending = true; // the retained status may be the broker's last will by now
    o.log(`mqtt connected to ${o.url} as ${o.username}`);
    client.subscribe(topics.desired(o.nodeId), { qos: 1 }, (err) => {
      if (!err) {
        // Back-off starts over only once documents can arrive again.
        attempt = 0;
        return;
      }
      // Refused (an ACL, a broker in trouble): no document would ever arrive on this connection.
      // Dropped, it is asked for again on the next one, after a back-off that keeps growing.
      o.log(`mqtt subscribe failed: ${err.message}; reconnecting to subscribe again`);
      if (!closed) client.stream.destroy();
    });
    flush();
  });
  client.on('message', (topic, payload) => {
    if (topic !== topics.desired(o.nodeId)) return;
    const text = payload.toString('utf8');
    desiredChain = desiredChain.then(() => o.onDesired(text)).catch((e: Error) => o.log(`desired handling failed: ${e.message}`));
  });
  client.on('error', (e) => o.log(`mqtt error: ${e.message}`));
  client.on('close', () => {
    ready = false;
    if (closed || retry) return;
    const delay = backoffDelayMs(attempt++, Math.random(), { baseMs: o.baseDelayMs, maxMs: o.maxDelayMs });
    o.log(`mqtt disconnected; reconnecting in ${delay} ms`);
    retry = setTimeout(() => {
      retry = null;
      // With the client's own stores: reconnect() without them starts empty ones, and the QoS 1
      // messages in flight when the connection dropped (an event, the status) were then neither
      // sent again nor ever acknowledged: lost, and a clean end waited for them for ever. Kept,
      // mqtt.js sends them again on the new connection, in order, before its `connect`.
      if (!closed) client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });
    }, delay);
  });

  return {
    publishStatus(s) {
      lastStatus = s;
      statusPending = true;
      // Serialised and sent in a turn of the loop of its own, the last status given by then: a
      // 10,000-real-server director's is 1.3 MB of JSON, about 10 ms, after the engine's run
      // that built it. Never after close(): its final status is the last word.
      statusTurn ??= turnOfTheLoop().then(() => {
        statusTurn = null;
        if (!closed) flush();
      });
    },
    publishEvent(e) {
      events.push(e);
      if (events.length > MAX_QUEUED_EVENTS) events.splice(0, events.length - MAX_QUEUED_EVENTS);
      flush();
    },
    connected: () => client.connected,
    async close(final) {
      closed = true;
      if (retry) clearTimeout(retry);
      // Its PUBACK is awaited with the others' by the end below.
      if (final && ready && client.connected) client.publish(topics.status(o.nodeId), statusText(final), { qos: 1, retain: true });
      await desiredChain;
      const unacked = () => Object.keys(client.outgoing).length;
      const away = !client.connected;
      if (away && unacked() > 0) o.log(`mqtt: ${unacked()} message(s) unacknowledged at close; the broker is away`);
      // mqtt.js's clean end waits for the PUBACK of every message in flight, then sends DISCONNECT
      // and ends the socket; with the broker away there is nothing to wait for.
      const ended = client.endAsync(away);
      if (!(await settledWithin(o.closeWithinMs ?? CLOSE_WITHIN_MS, ended))) {
        o.log(`mqtt: ${unacked()} message(s) unacknowledged at close; dropping the connection`);
        client.stream.destroy();
      }
    },
  };
}
