import net from 'node:net';
import os from 'node:os';
import * as z from 'zod';
import type { ResolvedCheck } from '#shared/config/node-config.ts';
import type { ProbeOutcome } from '../types.ts';
import { attempt, errorDetail, parseParams } from './common.ts';
import { takeReplies } from './smtp-reply.ts';

const SmtpParams = z.object({ helo: z.string().optional() });

/**
 * SMTP_CHECK: banner 220, `HELO name` answered by 250, then QUIT (RFC 5321 §4.1.1.1, §4.1.1.10).
 * keepalived's helo_name defaults to the local host name.
 */
export function smtpCheck(check: ResolvedCheck, signal: AbortSignal): Promise<ProbeOutcome> {
  const helo = parseParams(SmtpParams, check).helo ?? os.hostname();
  return attempt(check, signal, (settle) => {
    const sock = net.connect({ host: check.address, port: check.port, ...(check.bindTo ? { localAddress: check.bindTo } : {}) });
    let stage: 'banner' | 'helo' = 'banner';
    let buf = '';
    sock.setEncoding('latin1');
    sock.on('data', (data: string) => {
      buf += data;
      if (buf.length > 64 * 1024) return settle({ ok: false, detail: 'SMTP reply too long' });
      const { codes, rest } = takeReplies(buf);
      buf = rest;
      for (const code of codes) {
        if (stage === 'banner') {
          if (code !== 220) return settle({ ok: false, detail: code < 0 ? 'not an SMTP banner' : `SMTP banner ${code}, want 220` });
          stage = 'helo';
          sock.write(`HELO ${helo}\r\n`);
        } else {
          if (code !== 250) return settle({ ok: false, detail: `SMTP HELO answered ${code < 0 ? 'garbage' : code}, want 250` });
          sock.end('QUIT\r\n');
          return settle({ ok: true, detail: 'SMTP 220/250' });
        }
      }
    });
    sock.once('error', (err) => settle({ ok: false, detail: errorDetail(stage === 'banner' ? 'connect' : 'smtp', err) }));
    sock.once('end', () => settle({ ok: false, detail: `SMTP connection closed before ${stage === 'banner' ? 'the banner' : 'the HELO reply'}` }));
    // QUIT is sent with end(); destroy only if still open, after the write has been flushed.
    return () => setImmediate(() => sock.destroy());
  });
}
