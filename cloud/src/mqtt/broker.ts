import { createServer, type Server } from 'node:net';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import type { Db } from '../db/client.ts';
import { verifyNodeCredentials } from './credentials.ts';
import { limitFrames, MAX_PACKET_BYTES } from './frame-limit.ts';
import { INTERNAL_USERNAME, isNodeUsername, mayPublish, maySubscribe } from './acl.ts';
import { authThrottle } from './auth-throttle.ts';

export interface EmbeddedBroker {
  /** `mqtt://host:port` (the real port when 0 was asked for). */
  url: string;
  /** The cloud's own user for publisher and ingest; a new random password every process. */
  internal: { username: string; password: string };
  /** Ends every client, then the listener. */
  close(): Promise<void>;
}

/** Errors of the broker boundary. */
class BrokerError extends Error {
  constructor(
    readonly code: 'port_in_use' | 'listen_failed',
    message: string,
  ) {
    super(message);
    this.name = 'BrokerError';
  }
}

// MQTT 3.1.1 §3.2.2.3 CONNACK return codes (aedes maps them to MQTT 5 reason codes itself).
const IDENTIFIER_REJECTED = 2;
const BAD_USERNAME_OR_PASSWORD = 4;

function authError(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

const users = new WeakMap<Client, string>();

/**
 * Starts the embedded MQTT broker (aedes over TCP, packets capped at MAX_PACKET_BYTES). Nodes log in with the credentials issued at
 * enrollment and must use clientId = username (a node cannot take over another node's session or
 * last will); ACLs come from acl.ts.
 */
export async function startEmbeddedBroker(opts: {
  port: number;
  host?: string;
  db: Db;
  log?: (line: string) => void;
  /** Tests that restart the broker in one process keep the password; otherwise random. */ internalPassword?: string;
  /** Failed node logins: a bad credential is refused from memory for windowMs; an address with maxFailures in the window is refused outright. */
  authLimits?: { windowMs: number; maxFailures: number };
}): Promise<EmbeddedBroker> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ?? (() => {});
  const internalPassword = opts.internalPassword ?? randomBytes(32).toString('base64url');
  const internalBuf = Buffer.from(internalPassword);
  const throttle = authThrottle(opts.authLimits ?? { windowMs: 60_000, maxFailures: 20 });

  const broker = await Aedes.createBroker({
    authenticate(client, username, password, done) {
      const user = username ?? '';
      const pass = password ?? Buffer.alloc(0);
      if (user === INTERNAL_USERNAME) {
        const ok = pass.length === internalBuf.length && timingSafeEqual(pass, internalBuf);
        if (ok) users.set(client, user);
        return done(ok ? null : authError('bad username or password', BAD_USERNAME_OR_PASSWORD), ok);
      }
      if (!isNodeUsername(user)) return done(authError('bad username or password', BAD_USERNAME_OR_PASSWORD), false);
      if (client.id !== user) {
        log(`mqtt: refused ${user}: clientId ${JSON.stringify(client.id)} must equal the username`);
        return done(authError('clientId must equal the username', IDENTIFIER_REJECTED), false);
      }
      const address = (client.conn as { remoteAddress?: string }).remoteAddress ?? 'unknown';
      const credential = createHash('sha256').update(user).update('\0').update(pass).digest('base64');
      if (throttle.admit(address, credential, Date.now()) === 'refuse') return done(authError('bad username or password', BAD_USERNAME_OR_PASSWORD), false);
      verifyNodeCredentials(opts.db, user, pass.toString('utf8')).then(
        (ok) => {
          if (ok) {
            users.set(client, user);
            throttle.succeeded(address, credential);
          } else {
            throttle.failed(address, credential, Date.now());
            log(`mqtt: refused ${user}: bad credentials`);
          }
          done(ok ? null : authError('bad username or password', BAD_USERNAME_OR_PASSWORD), ok);
        },
        (err: Error) => {
          throttle.succeeded(address, credential); // not the client's failure: only end the check
          done(authError(`credential check failed: ${err.message}`, 3), false);
        },
      );
    },
    authorizePublish(client, packet, callback) {
      if (!client) return callback(null); // the broker's own $SYS messages
      const user = users.get(client) ?? '';
      if (mayPublish(user, packet.topic)) return callback(null);
      log(`mqtt: ${user} may not publish to ${packet.topic}`);
      callback(new Error(`not authorized to publish to ${packet.topic}`));
    },
    authorizeSubscribe(client, sub, callback) {
      const user = users.get(client) ?? '';
      if (maySubscribe(user, sub.topic)) return callback(null, sub);
      log(`mqtt: ${user} may not subscribe to ${sub.topic}`);
      callback(null, null); // SUBACK failure 0x80 (MQTT 3.1.1 §3.9.3) for this filter only
    },
  });

  const server: Server = createServer((socket) =>
    broker.handle(
      limitFrames(socket, MAX_PACKET_BYTES, (length) =>
        log(`mqtt: disconnected ${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}: a packet of ${length} bytes, at most ${MAX_PACKET_BYTES}`),
      ),
    ),
  );
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await new Promise<void>((r) => broker.close(() => r()));
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') throw new BrokerError('port_in_use', `MQTT port ${opts.port} is already in use`);
    throw new BrokerError('listen_failed', `MQTT broker cannot listen on ${host}:${opts.port}: ${e.message}`);
  }
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  const url = `mqtt://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log(`mqtt: embedded broker on ${url}`);

  let closing: Promise<void> | undefined;
  return {
    url,
    internal: { username: INTERNAL_USERNAME, password: internalPassword },
    close() {
      closing ??= (async () => {
        await new Promise<void>((r) => broker.close(() => r()));
        await new Promise<void>((r) => server.close(() => r()));
      })();
      return closing;
    },
  };
}
