/**
 * One IPv4 VRRP socket of ours (openRawVrrpSocket) for the lab's socket tests, run inside a
 * namespace. `send N` sends N VRRPv2 adverts to 224.0.0.18 and exits. `block FILE` prints `ready`,
 * then holds the event loop until FILE exists (a slow turn, as on a starved CPU) and prints how
 * many packets were read in the turn that read the first one (`first-turn K`) and, a second later, in all
 * (`total K`).
 * Usage: node --import tsx agent/lab/vrrp-socket-runner.ts ADDRESS send N | block FILE
 */
import { existsSync } from 'node:fs';
import { encodeAdvert } from '../src/vrrp/codec.ts';
import { openRawVrrpSocket } from '../src/dataplane/vrrp-linux-socket.ts';

const [address, mode, arg] = process.argv.slice(2);
let got = 0;
const ch = openRawVrrpSocket(
  { interface: 'eth0', sourceAddress: address, multicast: true },
  () => {
    // The first packet is read in some turn's poll phase; the check phase of that same turn
    // (setImmediate) sees what that one turn read.
    if (got++ === 0) setImmediate(() => process.stdout.write(`first-turn ${got}\n`));
  },
  (e) => process.stdout.write(`error ${e.message}\n`),
);
if (mode === 'send') {
  const pkt = encodeAdvert({
    version: 2,
    vrid: 51,
    priority: 90,
    intervalMs: 1000,
    addresses: ['10.0.0.50'],
    password: null,
    source: address,
    destination: '224.0.0.18',
  });
  for (let i = 0; i < Number(arg); i++) ch.send(pkt, '224.0.0.18');
  await ch.close();
} else {
  process.stdout.write('ready\n');
  while (!existsSync(arg)) {
    /* the event loop is held: the adverts queue in the socket */
  }
  setTimeout(() => {
    process.stdout.write(`total ${got}\n`);
    void ch.close().then(() => process.exit(0));
  }, 1000);
}
