import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { check } from '../scheduler-sim.test-support.ts';
import { smtpCheck } from './smtp.ts';
import { takeReplies } from './smtp-reply.ts';

const servers: net.Server[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

/** A tiny SMTP server: `banner` lines on connect, `heloReply` to HELO, 221 to QUIT; records commands. */
async function smtpServer(banner: string[] | null, heloReply = '250 hi'): Promise<{ port: number; commands: string[] }> {
  const commands: string[] = [];
  const server = net.createServer((sock) => {
    if (banner) sock.write(banner.map((l) => `${l}\r\n`).join(''));
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const cmd = buf.slice(0, i);
        buf = buf.slice(i + 2);
        commands.push(cmd);
        if (cmd.startsWith('HELO')) sock.write(`${heloReply}\r\n`);
        else if (cmd === 'QUIT') sock.end('221 bye\r\n');
      }
    });
    sock.on('error', () => {});
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, commands };
}

const run = (port: number, timeoutMs = 1000) =>
  smtpCheck(check({ type: 'smtp', port, timeoutMs, params: { helo: 'director.test' } }), AbortSignal.timeout(timeoutMs));

describe('SMTP checker against a real SMTP dialogue', () => {
  it('is up on 220 banner (multi-line) and 250 to HELO, then says QUIT', async () => {
    const s = await smtpServer(['220-mail.test ESMTP', '220 ready']);
    expect(await run(s.port)).toEqual({ ok: true, detail: 'SMTP 220/250' });
    await new Promise((r) => setTimeout(r, 50));
    expect(s.commands).toEqual(['HELO director.test', 'QUIT']);
  });

  it('is down on a 554 banner or a refused HELO', async () => {
    expect(await run((await smtpServer(['554 go away'])).port)).toEqual({ ok: false, detail: 'SMTP banner 554, want 220' });
    expect(await run((await smtpServer(['220 ok'], '501 bad helo')).port)).toEqual({ ok: false, detail: 'SMTP HELO answered 501, want 250' });
  });

  it('times out on a server that accepts and never speaks', async () => {
    expect(await run((await smtpServer(null)).port, 300)).toEqual({ ok: false, detail: 'timeout after 300 ms' });
  });

  it('parses continuation lines', () => {
    expect(takeReplies('220-a\r\n220 b\r\n250')).toEqual({ codes: [220], rest: '250' });
  });
});
