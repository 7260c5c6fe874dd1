import { createRequire } from 'node:module';
import { VrrpHostError } from './vrrp-host.ts';

// raw-socket is a CommonJS native addon without types; this is the slice of its API the VRRP
// sockets (IPv4 and IPv6) use.
export interface RawSocket {
  on(ev: 'message', cb: (buf: Buffer, source: string) => void): void;
  on(ev: 'error', cb: (err: Error) => void): void;
  setOption(level: number, option: number, value: number | Buffer, length?: number): void;
  send(buf: Buffer, offset: number, length: number, address: string, cb: (err: Error | null, bytes: number) => void): void;
  close(): void;
  /**
   * raw-socket's own fields (raw-socket 1.8): its native socket, whose `recv` reads one datagram
   * into `buffer` and calls back synchronously, or throws (EAGAIN when none is queued).
   */
  wrap: { recv(buf: Buffer, cb: (buf: Buffer, bytes: number, source: string) => void): void };
  buffer: Buffer;
}
export interface RawModule {
  createSocket(o: { protocol: number; addressFamily?: number; bufferSize?: number }): RawSocket;
  AddressFamily: { IPv6: number };
}

// <asm-generic/socket.h> option numbers, the same for both families.
export const SOL_SOCKET = 1;
export const SO_BINDTODEVICE = 25;

const require = createRequire(import.meta.url);

/** The addon, or a `socket` error saying why it cannot be loaded. */
export function loadRawSocket(): RawModule {
  try {
    return require('raw-socket') as RawModule;
  } catch (e) {
    throw new VrrpHostError('socket', `raw-socket addon not loadable: ${(e as Error).message}`);
  }
}
