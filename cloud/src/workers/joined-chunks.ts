/**
 * The chunks of a corked stream write (a Duplex's `writev`) copied into one array of its own: one
 * socket write or WebSocket frame for what mqtt-packet writes as several chunks per packet. A
 * copy, as the single-chunk writes make, because the stream may reuse the chunks' buffers.
 */
export function joinedChunks(chunks: readonly { chunk: Uint8Array }[]): Uint8Array {
  let length = 0;
  for (const { chunk } of chunks) length += chunk.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const { chunk } of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
