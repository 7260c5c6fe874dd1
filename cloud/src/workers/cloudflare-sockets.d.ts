// The part of workerd's `cloudflare:sockets` module this code uses (the runtime provides it; the
// Node typecheck has no Workers types, whose globals would clash with Node's).
declare module 'cloudflare:sockets' {
  interface SocketOptions {
    secureTransport?: 'off' | 'on' | 'starttls';
    allowHalfOpen?: boolean;
  }
  import type { ReadableStream, WritableStream } from 'node:stream/web';
  interface Socket {
    readonly readable: ReadableStream<Uint8Array>;
    readonly writable: WritableStream<Uint8Array>;
    readonly closed: Promise<void>;
    close(): Promise<void>;
  }
  export function connect(address: { hostname: string; port: number }, options?: SocketOptions): Socket;
}
