import { describe, expect, it } from 'vitest';
import { FRAME_START, scanFrames, type FrameScan } from './frame-limit.ts';

/** A PUBLISH fixed header announcing `length` bytes (the varint of MQTT §2.2.3), then `body` bytes of it. */
function publish(length: number, body = length): Uint8Array {
  const head = [0x30];
  let n = length;
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    head.push(b);
  } while (n > 0);
  return new Uint8Array([...head, ...new Array<number>(body).fill(0x61)]);
}

describe('scanFrames', () => {
  it('follows packets across chunk boundaries and back to a type byte', () => {
    const bytes = new Uint8Array([...publish(200), ...publish(0), ...publish(3)]);
    let scan: FrameScan = FRAME_START;
    for (let i = 0; i < bytes.length; i += 7) {
      const r = scanFrames(scan, bytes.subarray(i, i + 7), 1000);
      if (!('scan' in r)) throw new Error('refused a small packet');
      scan = r.scan;
    }
    expect(scan).toMatchObject({ phase: 'type' });
  });

  it('refuses a packet over the limit from its header alone, before its body arrives', () => {
    expect(scanFrames(FRAME_START, publish(9 * 1024 * 1024, 0), 8 * 1024 * 1024)).toEqual({ oversize: 9 * 1024 * 1024 });
    expect(scanFrames(FRAME_START, publish(8 * 1024 * 1024, 0), 8 * 1024 * 1024)).toHaveProperty('scan');
  });

  it('refuses a length of more than four bytes', () => {
    expect(scanFrames(FRAME_START, new Uint8Array([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), Infinity)).toEqual({ oversize: Infinity });
  });
});
