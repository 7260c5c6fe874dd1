import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_DOCUMENT_BYTES } from '#shared/wire/desired.ts';
import { topics } from '#shared/wire/topics.ts';
import { FRAME_START, limitFrames, MAX_PACKET_BYTES, scanFrames, type FrameScan } from './frame-limit.ts';

/** A PUBLISH fixed header announcing `length` bytes (the varint of MQTT §2.2.3), then `body` bytes of it. */
function publish(length: number, body = length): Uint8Array {
  const head = [0x30];
  let n = length;
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    head.push(b);
  } while (n > 0);
  return new Uint8Array([...head, ...new Array<number>(body).fill(0x61)]);
}

describe('scanFrames', () => {
  it('follows packets across chunk boundaries and back to a type byte', () => {
    const bytes = new Uint8Array([...publish(200), ...publish(0), ...publish(3)]);
    let scan: FrameScan = FRAME_START;
    for (let i = 0; i < bytes.length; i += 7) {
      const r = scanFrames(scan, bytes.subarray(i, i + 7), 1000);
      if (!('scan' in r)) throw new Error('refused a small packet');
      scan = r.scan;
    }
    expect(scan).toMatchObject({ phase: 'type' });
  });

  it('refuses a packet over the limit from its header alone, before its body arrives', () => {
    expect(scanFrames(FRAME_START, publish(9 * 1024 * 1024, 0), 8 * 1024 * 1024)).toEqual({ oversize: 9 * 1024 * 1024 });
    expect(scanFrames(FRAME_START, publish(8 * 1024 * 1024, 0), 8 * 1024 * 1024)).toHaveProperty('scan');
  });

  it('refuses a length of more than four bytes', () => {
    expect(scanFrames(FRAME_START, new Uint8Array([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), Infinity)).toEqual({ oversize: Infinity });
  });
});

/** A real loopback connection: the server's socket behind limitFrames (as the broker has it), and the client's. */
async function framedPair(max: number, onOversize: (n: number) => void = () => {}): Promise<{ conn: Duplex; socket: Socket; client: Socket }> {
  const server: Server = createServer();
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
  clients.push(client);
  const [socket] = await accepted;
  return { conn: limitFrames(socket, max, onOversize), socket, client };
}
const servers: Server[] = [];
const clients: Socket[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
  for (const s of servers.splice(0)) s.close();
});

describe('limitFrames', () => {
  it('passes the bytes both ways, and the chunks a corked writer buffered reach the socket in one write', async () => {
    const { conn, socket, client } = await framedPair(1024);
    const inbound = once(conn, 'data') as Promise<[Buffer]>;
    client.write(publish(3));
    expect([...(await inbound)[0]]).toEqual([...publish(3)]);
    // mqtt-packet writes one PUBLISH as several chunks between cork() and a nextTick uncork().
    const writev = vi.spyOn(socket as unknown as { _writev: (...a: unknown[]) => unknown }, '_writev');
    const single = vi.spyOn(socket as unknown as { _write: (...a: unknown[]) => unknown }, '_write');
    const chunks = ['\x30', '\x0b', '\x00\x03', 'a/b', 'payload!'].map((t) => Buffer.from(t, 'latin1'));
    const got: Buffer[] = [];
    client.on('data', (b: Buffer) => got.push(b));
    conn.cork();
    for (const c of chunks) conn.write(c);
    process.nextTick(() => conn.uncork());
    const want = Buffer.concat(chunks);
    await vi.waitFor(() => expect(Buffer.concat(got).length).toBe(want.length));
    expect(Buffer.concat(got)).toEqual(want);
    expect(writev).toHaveBeenCalledTimes(1);
    expect(single).not.toHaveBeenCalled();
  });

  it('holds writes back while the peer does not read, and delivers every byte in order once it does', async () => {
    const { conn, client } = await framedPair(1024);
    client.pause();
    const block = (i: number) => Buffer.alloc(64 * 1024, i & 0xff);
    let refused = 0;
    let called = 0;
    const sent = createHash('sha256');
    for (let i = 0; i < 256; i++) {
      sent.update(block(i));
      if (!conn.write(block(i), () => void called++)) refused++;
    }
    expect(refused).toBeGreaterThan(0); // 16 MiB does not fit the socket's buffers: back-pressure reached the writer
    await new Promise((r) => setTimeout(r, 50));
    expect(called).toBeLessThan(256);
    const received = createHash('sha256');
    let bytes = 0;
    client.on('data', (b: Buffer) => {
      received.update(b);
      bytes += b.length;
    });
    client.resume();
    await vi.waitFor(() => expect(bytes).toBe(256 * 64 * 1024), { timeout: 10_000 });
    expect(received.digest('hex')).toBe(sent.digest('hex'));
    await vi.waitFor(() => expect(called).toBe(256));
  });

  it('ends every write still waiting for the peer when the connection is destroyed', async () => {
    const { conn, client } = await framedPair(1024);
    client.pause();
    conn.on('error', () => {});
    let ended = 0;
    let writes = 0;
    while (conn.write(Buffer.alloc(64 * 1024), () => void ended++)) writes++;
    writes++;
    conn.write(Buffer.alloc(64 * 1024), () => void ended++); // buffered behind the one waiting
    writes++;
    await new Promise((r) => setTimeout(r, 20));
    expect(ended).toBeLessThan(writes);
    conn.destroy();
    await vi.waitFor(() => expect(ended).toBe(writes));
  });

  it("passes the socket's first error on and survives a second one", async () => {
    const { conn, socket } = await framedPair(1024);
    const errors: string[] = [];
    conn.on('error', (e: Error) => errors.push(e.message));
    const closed = new Promise((r) => conn.once('close', r)); // events.once would reject on the error
    expect(() => {
      socket.emit('error', new Error('first'));
      socket.emit('error', new Error('second'));
    }).not.toThrow();
    await closed;
    expect(errors).toEqual(['first']);
    expect(socket.destroyed).toBe(true);
  });

  it('disconnects a client that announces a packet over the limit, before its body arrives', async () => {
    const seen: number[] = [];
    const { conn, socket, client } = await framedPair(1024, (n) => seen.push(n));
    const data = vi.fn();
    conn.on('data', data);
    const closed = once(conn, 'close');
    client.write(publish(2000, 10));
    await closed;
    expect(seen).toEqual([2000]);
    expect(socket.destroyed).toBe(true);
    expect(data).not.toHaveBeenCalled();
  });

  it('ends when the peer ends, and its end and destroy reach the socket', async () => {
    const a = await framedPair(1024);
    const ended = once(a.conn, 'end');
    a.conn.resume();
    a.client.end();
    await ended;
    const b = await framedPair(1024);
    const clientEnded = once(b.client, 'end');
    b.client.resume();
    b.conn.end();
    await clientEnded;
    const c = await framedPair(1024);
    const clientClosed = once(c.client, 'close');
    c.conn.destroy();
    await clientClosed;
    expect(c.socket.destroyed).toBe(true);
  });
});

describe('MAX_PACKET_BYTES and the documents', () => {
  it("carries the largest desired document an agent takes on the longest node topic, with the packet's header", () => {
    // A topic of a 128-character node id (the status schema's bound).
    const topic = topics.desired(`${'s'.repeat(63)}.${'n'.repeat(64)}`);
    // Remaining length of a QoS 1 PUBLISH: the topic with its 2-byte length, the packet id, the payload.
    expect(scanFrames(FRAME_START, publish(2 + Buffer.byteLength(topic) + 2 + MAX_DOCUMENT_BYTES, 0), MAX_PACKET_BYTES)).toHaveProperty('scan');
  });
});
