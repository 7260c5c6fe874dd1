/** The base64url alphabet (RFC 4648 §5) as the ASCII byte of each 6-bit value. */
const ALPHABET = new TextEncoder().encode('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_');

/** How many characters the unpadded base64url of `n` bytes has. */
export function base64urlLength(n: number): number {
  const rest = n % 3;
  return ((n - rest) / 3) * 4 + (rest ? rest + 1 : 0);
}

/**
 * Writes the unpadded base64url of `src` into `dst` from `at`, as ASCII bytes, and answers the
 * index after it; `dst` must have `base64urlLength(src.length)` bytes free there. For texts built
 * as bytes (a JWS): encoding to a string and copying the string out costs a director's 350 KB
 * payload about 1.5 ms, this 0.4, and a string of that size costs V8 about 1.4 ms more each time
 * one is made or flattened.
 */
export function writeBase64url(src: Uint8Array, dst: Uint8Array, at: number): number {
  const whole = src.length - (src.length % 3);
  let o = at;
  let i = 0;
  for (; i < whole; i += 3) {
    const v = (src[i] << 16) | (src[i + 1] << 8) | src[i + 2];
    dst[o] = ALPHABET[v >>> 18];
    dst[o + 1] = ALPHABET[(v >>> 12) & 63];
    dst[o + 2] = ALPHABET[(v >>> 6) & 63];
    dst[o + 3] = ALPHABET[v & 63];
    o += 4;
  }
  const rest = src.length - whole;
  if (rest) {
    const v = (src[i] << 16) | (rest === 2 ? src[i + 1] << 8 : 0);
    dst[o++] = ALPHABET[v >>> 18];
    dst[o++] = ALPHABET[(v >>> 12) & 63];
    if (rest === 2) dst[o++] = ALPHABET[(v >>> 6) & 63];
  }
  return o;
}
