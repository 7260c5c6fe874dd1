/**
 * A lab real server: `node rs-server.mjs NAME PORT…` answers HTTP on every PORT with its name
 * (`/big?n=BYTES` sends that many bytes, to measure which way replies travel) and echoes TCP
 * lines on 9000 prefixed with its name (a long-lived connection that must survive changes).
 * `/count` answers the server's own counter: requests served per local address and port, so a
 * scenario can tell the requests that came through a VIP from the directors' health checks.
 */
import { createServer as createHttp } from 'node:http';
import { createServer as createTcp } from 'node:net';

const [name, ...ports] = process.argv.slice(2);
if (!name || ports.length === 0) {
  process.stderr.write('usage: rs-server NAME PORT…\n');
  process.exit(2);
}

/** `address:port` the request arrived on → requests served (`/count` itself not counted). */
const served: Record<string, number> = {};

for (const port of ports.map(Number)) {
  const server = createHttp((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/count') {
      const body = Buffer.from(JSON.stringify(served));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length, connection: 'close' });
      return void res.end(body);
    }
    const at = `${req.socket.localAddress}:${port}`;
    served[at] = (served[at] ?? 0) + 1;
    const n = url.pathname === '/big' ? Number(url.searchParams.get('n') ?? 0) : 0;
    const body = n > 0 ? Buffer.alloc(n, 0x61) : Buffer.from(`${name}\n`);
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length, 'x-server': name, connection: 'close' });
    res.end(body);
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
