const NativeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer;
const encoder = new TextEncoder();

/**
 * A writer of JWS signing inputs, `header.payload` as bytes (RFC 7515 §5.1 and §5.2), into one
 * buffer it keeps from one input to the next, grown to the longest: what it answers is valid until
 * its next call. Both parts are base64url, so the text is ASCII and its latin1 bytes are its UTF-8
 * bytes. A new buffer for each document is new memory: for a director's 467 KB input, filling one
 * took 1.4-2.2 ms where writing into a kept one takes 0.01-0.03 (the agent verifies with it; the
 * cloud writes its signing input straight into the JWS's bytes, cloud/src/keys/jws-bytes.ts).
 * Where there is no Buffer, TextEncoder's new array each time.
 */
export function signingInputWriter(): (header: string, payload: string) => Uint8Array<ArrayBuffer> {
  if (!NativeBuffer) return (header, payload) => encoder.encode(`${header}.${payload}`);
  let kept = NativeBuffer.alloc(0);
  return (header, payload) => {
    const length = header.length + 1 + payload.length;
    if (kept.length < length) kept = NativeBuffer.allocUnsafe(length);
    kept.write(header, 0, 'latin1');
    kept[header.length] = 0x2e; // '.'
    kept.write(payload, header.length + 1, 'latin1');
    return kept.subarray(0, length);
  };
}
