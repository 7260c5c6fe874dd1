import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { check } from '../scheduler-sim.test-support.ts';
import { httpCheck } from './http.ts';

let server: https.Server;
let port: number;
let dir: string;
const seen: { sni: string | false; host: string | undefined }[] = [];

beforeAll(async () => {
  // A fresh self-signed certificate per run (openssl CLI is on every machine that runs this).
  dir = mkdtempSync(join(tmpdir(), 'lvsfleet-https-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=svc.test',
      '-addext',
      'subjectAltName=DNS:svc.test',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  server = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (req, res) => {
    seen.push({ sni: (req.socket as TLSSocket & { servername: string | false }).servername, host: req.headers.host });
    res.writeHead(req.url === '/ok' ? 200 : 500).end('secure');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = (params: Record<string, unknown>, path = '/ok') =>
  httpCheck(check({ type: 'https', port, params: { urls: [{ path, expectStatus: [200] }], ...params } }), AbortSignal.timeout(2000));

describe('HTTPS checker against a real TLS server with a self-signed certificate', () => {
  it('is up without verifying the certificate (keepalived default) and down on a bad status', async () => {
    expect(await get({})).toEqual({ ok: true, detail: 'HTTP 200 on /ok' });
    expect(await get({}, '/err')).toEqual({ ok: false, detail: 'HTTP 500 on /err' });
  });

  it('is down with verifyCertificate against a self-signed certificate', async () => {
    const r = await get({ verifyCertificate: true, sni: 'svc.test' });
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/^tls\/connect (DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)/);
  });

  it('sends SNI only when asked: true = the virtualhost, a string = that name', async () => {
    seen.length = 0;
    await get({ virtualhost: 'www.example.test' });
    await get({ virtualhost: 'www.example.test', sni: true });
    await get({ sni: 'svc.test' });
    expect(seen.map((s) => s.sni)).toEqual([false, 'www.example.test', 'svc.test']);
    expect(seen[0].host).toBe('www.example.test');
  });
});
