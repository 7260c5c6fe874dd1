import { Duplex, Transform, type TransformCallback } from 'node:stream';
import type { Socket } from 'node:net';

/**
 * Largest MQTT packet the embedded broker takes, in bytes of remaining length. Sized from the
 * largest legitimate message: a status under MAX_STATUS_BYTES (4 MiB, shared/wire/status.ts)
 * and a signed desired document under MAX_DOCUMENT_BYTES (shared/wire/desired.ts, 64 KiB less than
 * this, for the topic and properties). aedes has no such setting and buffers a whole
 * packet before any hook sees it, so the limit is enforced on the byte stream, from the fixed
 * header, before the packet is read. The shipped Mosquitto and EMQX configs use the same figure.
 */
export const MAX_PACKET_BYTES = 8 * 1024 * 1024;

/** Where the scan is inside the MQTT byte stream (MQTT 3.1.1 §2.2 / 5.0 §2.1: type byte, varint length, body). */
export interface FrameScan {
  phase: 'type' | 'length' | 'body';
  length: number;
  multiplier: number;
  left: number;
}

export const FRAME_START: FrameScan = { phase: 'type', length: 0, multiplier: 1, left: 0 };

/**
 * Advances the scan over `chunk`; answers the new scan, or the declared length of the first
 * packet over `max` (and of a malformed length, over four bytes, as Infinity). Pure.
 */
export function scanFrames(scan: FrameScan, chunk: Uint8Array, max: number): { scan: FrameScan } | { oversize: number } {
  let { phase, length, multiplier, left } = scan;
  let i = 0;
  while (i < chunk.length) {
    if (phase === 'type') {
      i++;
      [phase, length, multiplier] = ['length', 0, 1];
    } else if (phase === 'length') {
      const b = chunk[i++];
      length += (b & 0x7f) * multiplier;
      multiplier *= 128;
      if (b & 0x80) {
        if (multiplier > 128 ** 3) return { oversize: Infinity };
        continue;
      }
      if (length > max) return { oversize: length };
      [phase, left] = length === 0 ? ['type', 0] : ['body', length];
    } else {
      const take = Math.min(left, chunk.length - i);
      i += take;
      left -= take;
      if (left === 0) phase = 'type';
    }
  }
  return { scan: { phase, length, multiplier, left } };
}

/**
 * The socket as the broker should see it: the same bytes both ways, but a client that announces
 * a packet over `max` is disconnected before the broker buffers it (`onOversize` says so).
 */
export function limitFrames(socket: Socket, max: number, onOversize: (length: number) => void): Duplex {
  let scan = FRAME_START;
  const inbound = new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      const r = scanFrames(scan, chunk, max);
      if ('oversize' in r) {
        onOversize(r.oversize);
        socket.destroy();
        return done();
      }
      scan = r.scan;
      done(null, chunk);
    },
  });
  socket.pipe(inbound);
  const conn = new FramedSocket(socket, inbound);
  socket.once('close', () => conn.destroy());
  return conn;
}

/**
 * Reads what `inbound` passes on; writes go to `socket`, and the chunks a corked writer buffered
 * go out together in one write. Node's `Duplex.from({ readable, writable })` hands them to the
 * socket one by one: mqtt-packet writes a PUBLISH as several chunks (header, length, topic, id,
 * payload), so each delivery to a subscriber cost eight system calls instead of one (1,000
 * retained documents fanned out: 9,000 writes).
 */
class FramedSocket extends Duplex {
  constructor(
    private readonly socket: Socket,
    private readonly inbound: Transform,
  ) {
    super();
    inbound.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) inbound.pause();
    });
    inbound.once('end', () => this.push(null));
    // `on`, not `once`: a second 'error' with no listener would throw in the broker's process.
    inbound.on('error', (e) => this.destroy(e));
    socket.on('error', (e) => this.destroy(e));
  }

  override _read(): void {
    this.inbound.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.afterWrite(this.socket.write(chunk, encoding), done);
  }

  override _writev(chunks: { chunk: Buffer; encoding: BufferEncoding }[], done: (err?: Error | null) => void): void {
    this.socket.cork();
    let flowing = true;
    for (const { chunk, encoding } of chunks) flowing = this.socket.write(chunk, encoding);
    this.socket.uncork();
    this.afterWrite(flowing, done);
  }

  override _final(done: (err?: Error | null) => void): void {
    this.socket.end(() => done());
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    // A write waiting for a drain that will never come ends with the connection.
    const waiting = this.waiting;
    this.waiting = null;
    if (waiting) {
      this.socket.off('drain', waiting);
      waiting();
    }
    this.socket.destroy();
    done(err);
  }

  /** The write waiting for the socket's 'drain', if one is. */
  private waiting: (() => void) | null = null;

  /** The next chunk waits while the socket's buffer is full (a slow subscriber), as a piped stream would. */
  private afterWrite(flowing: boolean, done: (err?: Error | null) => void): void {
    if (flowing) return done();
    const waiting = () => {
      this.waiting = null;
      done();
    };
    this.waiting = waiting;
    this.socket.once('drain', waiting);
  }
}
