/**
 * A lab real server: `node rs-server.mjs NAME PORT…` answers HTTP on every PORT with its name
 * (`/big?n=BYTES` sends that many bytes, to measure which way replies travel) and echoes TCP
 * lines on 9000 prefixed with its name (a long-lived connection that must survive changes).
 * `/count` answers the server's own counter: requests served per local address and port, so a
 * scenario can tell the requests that came through a VIP from the directors' health checks.
 */
import { createServer as createTcp } from 'node:net';

const [name, ...ports] = process.argv.slice(2);
if (!name || ports.length === 0) {
  process.stderr.write('usage: rs-server NAME PORT…\n');
  process.exit(2);
}

/** `address:port` the request arrived on → requests served (`/count` itself not counted). */
const served: Record<string, number> = {};

/** The answer to one request line's target. */
function answer(target: string, localAddress: string | undefined, port: number): Buffer {
  const url = new URL(target, 'http://x');
  const head = (type: string, body: Buffer, server: boolean) =>
    `HTTP/1.1 200 OK\r\ncontent-type: ${type}\r\ncontent-length: ${body.length}\r\n${server ? `x-server: ${name}\r\n` : ''}connection: close\r\n\r\n`;
  if (url.pathname === '/count') {
    const body = Buffer.from(JSON.stringify(served));
    return Buffer.concat([Buffer.from(head('application/json', body, false)), body]);
  }
  const at = `${localAddress}:${port}`;
  served[at] = (served[at] ?? 0) + 1;
  const n = url.pathname === '/big' ? Number(url.searchParams.get('n') ?? 0) : 0;
  const body = n > 0 ? Buffer.alloc(n, 0x61) : Buffer.from(`${name}\n`);
  return Buffer.concat([Buffer.from(head('text/plain', body, true)), body]);
}

/**
 * HTTP/1.x on a bare socket: one request per connection, answered and closed. node:http cost about
 * a third more CPU per request, and the guest's emulated CPUs are what limits the lab's traffic.
 */
for (const port of ports.map(Number)) {
  const server = createTcp((sock) => {
    let pending = '';
    let answered = false;
    sock.on('data', (d: Buffer) => {
      if (answered) return;
      pending += d.toString('latin1');
      if (!pending.includes('\r\n\r\n')) {
        if (pending.length > 16_384) sock.destroy();
        return;
      }
      const target = /^[A-Z]+ (\S+) HTTP\/1\.[01]\r\n/.exec(pending)?.[1];
      answered = true;
      if (!target) return void sock.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      sock.end(answer(target, sock.localAddress, port));
    });
    sock.on('error', () => {});
  });
  // '::' takes IPv4 too (bindv6only is 0): one server per port for both families.
  server.listen(port, '::');
}

createTcp((sock) => {
  sock.setNoDelay(true);
  let buf = '';
  sock.on('data', (d) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      sock.write(`${name} ${buf.slice(0, i)}\n`);
      buf = buf.slice(i + 1);
    }
  });
  sock.on('error', () => {});
}).listen(9000, '::');

process.stdout.write(`${name} listening on ${ports.join(',')} and 9000\n`);
process.on('SIGTERM', () => process.exit(0));
