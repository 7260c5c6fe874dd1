import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';

/**
 * A TCP proxy on loopback in front of a broker that, on every other connection, does what
 * Mosquitto did to the dynamic-security admin it kicked (which left a Worker's client hung): it
 * closes its side (FIN) right after the broker's first answer, the CONNACK, and answers the
 * client's next packet with a reset (RST), as a closed socket does. The connection after each
 * such one passes through untouched.
 */
export async function startResettingProxy(target: { host: string; port: number }): Promise<{ url: string; close(): Promise<void> }> {
  let connections = 0;
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const kicked = ++connections % 2 === 1;
    const upstream = createConnection(target);
    open.add(client).add(upstream);
    let answered = false;
    let finSent = false;
    upstream.on('data', (b) => {
      answered = true;
      client.write(b);
    });
    client.on('data', (b) => {
      if (kicked && answered && !finSent) {
        // The packet that got the broker to kick it goes through; then the broker closes.
        upstream.write(b);
        finSent = true;
        client.end();
        return;
      }
      if (kicked && finSent) {
        upstream.destroy();
        client.resetAndDestroy();
        return;
      }
      upstream.write(b);
    });
    const end = () => (client.destroy(), upstream.destroy(), open.delete(client), open.delete(upstream));
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      for (const s of open) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
