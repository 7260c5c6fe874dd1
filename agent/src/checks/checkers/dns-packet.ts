import { CheckError } from '../types.ts';

/** Query types DNS_CHECK accepts (RFC 1035 §3.2.2, AAAA from RFC 3596). */
export const DNS_TYPES = { A: 1, NS: 2, CNAME: 5, SOA: 6, MX: 15, TXT: 16, AAAA: 28 } as const;
export type DnsType = keyof typeof DNS_TYPES;

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

/**
 * A standard query (RFC 1035 §4.1): header with `id`, RD set as keepalived sets it, one
 * question `name`/`type`/IN. `name` "." is the root.
 */
export function encodeQuery(id: number, name: string, type: DnsType): Buffer {
  const labels = name
    .replace(/\.$/, '')
    .split('.')
    .filter((l) => l.length > 0);
  const parts: Buffer[] = [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id & 0xffff, 0);
  header.writeUInt16BE(0x0100, 2); // RD
  header.writeUInt16BE(1, 4); // QDCOUNT
  parts.push(header);
  for (const label of labels) {
    const b = Buffer.from(label, 'ascii');
    if (b.length > 63) throw new CheckError('BAD_PARAMS', `DNS label longer than 63 bytes in ${name}`);
    parts.push(Buffer.from([b.length]), b);
  }
  const tail = Buffer.alloc(5);
  tail.writeUInt8(0, 0);
  tail.writeUInt16BE(DNS_TYPES[type], 1);
  tail.writeUInt16BE(1, 3); // class IN
  parts.push(tail);
  return Buffer.concat(parts);
}

/**
 * keepalived's DNS_CHECK reading of a datagram: shorter than a header, another id, or not a
 * response (QR clear) → ignore it and keep waiting; RCODE other than NOERROR → down; else up
 * (answers are not required: an empty NOERROR answer is up).
 */
export function judgeResponse(msg: Buffer, id: number): { verdict: 'ignore' } | { verdict: 'up' | 'down'; detail: string } {
  if (msg.length < 12) return { verdict: 'ignore' };
  if (msg.readUInt16BE(0) !== (id & 0xffff)) return { verdict: 'ignore' };
  const flags = msg.readUInt16BE(2);
  if (!(flags & 0x8000)) return { verdict: 'ignore' };
  const rcode = flags & 0x000f;
  const answers = msg.readUInt16BE(6);
  if (rcode !== 0) return { verdict: 'down', detail: `DNS RCODE ${rcode} (${RCODES[rcode] ?? 'unknown'})` };
  return { verdict: 'up', detail: `DNS NOERROR, ${answers} answer${answers === 1 ? '' : 's'}` };
}
