import { createPublicKey, generateKeyPairSync, KeyObject, type JsonWebKey } from 'node:crypto';
import fc from 'fast-check';
import { CompactSign, compactVerify, generateKeyPair } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { JwsError, jwsHeader, OFF_LOOP_JWS_CHARS, verifyCompact } from './compact-jws.ts';
import { signDoc, testKey, type TestKey } from './keys.test-support.ts';

const b64 = (x: string | Uint8Array) => Buffer.from(x).toString('base64url');
/** A compact JWS with this header and payload, signed over exactly those two parts as written. */
async function signParts(k: TestKey, header: string, payload: string): Promise<string> {
  const input = `${header}.${payload}`;
  const sig = new Uint8Array(await crypto.subtle.sign('Ed25519', k.priv, new TextEncoder().encode(input)));
  return `${input}.${b64(sig)}`;
}

async function refusal(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(JwsError);
  return (e as JwsError).code;
}

/** The key object the agent verifies with, from a public JWK (what KeyCache makes). */
const publicKeyOf = (jwk: object) => createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });

describe('verifyCompact: RFC 7515 compact EdDSA, by node:crypto', () => {
  let k: TestKey;
  let other: TestKey;
  let pub: KeyObject;
  beforeAll(async () => {
    [k, other] = await Promise.all([testKey(), testKey()]);
    pub = publicKeyOf(k.pub);
  });

  it('answers the payload jose answers, for a document jose signed', async () => {
    const claims = { nodeId: 't.d1', revision: 3, text: 'é ✓ \u{1F600}' };
    const jws = await signDoc(k, claims);
    const mine = await verifyCompact(jws, pub);
    const theirs = await compactVerify(jws, pub, { algorithms: ['EdDSA'] });
    expect(Buffer.compare(mine, Buffer.from(theirs.payload))).toBe(0);
    expect(JSON.parse(mine.toString('utf8'))).toEqual(claims);
    expect(jwsHeader(jws)).toEqual({ alg: 'EdDSA', kid: k.kid, typ: 'lvsfleet-desired+jws' });
  });

  it('refuses another key, a changed payload, a changed signature', async () => {
    const jws = await signDoc(k, { revision: 1 });
    const [h, p, s] = jws.split('.');
    expect(await refusal(verifyCompact(jws, publicKeyOf(other.pub)))).toBe('signature');
    expect(await refusal(verifyCompact(`${h}.${b64('{"revision":2}')}.${s}`, pub))).toBe('signature');
    const flipped = s[10] === 'A' ? 'B' : 'A';
    expect(await refusal(verifyCompact(`${h}.${p}.${s.slice(0, 10)}${flipped}${s.slice(11)}`, pub))).toBe('signature');
    expect(await refusal(verifyCompact(`${h}.${p}.`, pub))).toBe('signature');
  });

  it('verifies documents of any size one after another: a short one after a long one, and the long one again', async () => {
    const long = await signDoc(k, { revision: 1, pad: 'x'.repeat(100_000) });
    const short = await signDoc(k, { revision: 2 });
    for (const jws of [long, short, long, short]) expect(JSON.parse((await verifyCompact(jws, pub)).toString('utf8')).revision).toBe(jws === long ? 1 : 2);
    // A short document whose signature is the long one's: refused, whatever the long one left behind.
    const [h, p] = short.split('.');
    expect(await refusal(verifyCompact(`${h}.${p}.${long.split('.')[2]}`, pub))).toBe('signature');
  });

  it('checks a large document as a job off the event loop: timers run meanwhile, and several at once each verify their own bytes', async () => {
    const large = await Promise.all([1, 2, 3].map((revision) => signDoc(k, { revision, pad: 'x'.repeat(OFF_LOOP_JWS_CHARS) })));
    let fired = false;
    setTimeout(() => (fired = true), 0);
    // In flight together: each job copied its signing input before the next was written into the kept buffer.
    const got = await Promise.all(large.map((jws) => verifyCompact(jws, pub)));
    expect(got.map((p) => JSON.parse(p.toString('utf8')).revision)).toEqual([1, 2, 3]);
    expect(fired).toBe(true);
    const [h, p, s] = large[0].split('.');
    const flipped = s[10] === 'A' ? 'B' : 'A';
    expect(await refusal(verifyCompact(`${h}.${p}.${s.slice(0, 10)}${flipped}${s.slice(11)}`, pub))).toBe('signature');
    expect(await refusal(verifyCompact(large[0], publicKeyOf(other.pub)))).toBe('signature');
  });

  it('checks a small document in one run of the event loop (the one-shot call is the cheaper)', async () => {
    const small = await signDoc(k, { revision: 1 });
    let fired = false;
    setTimeout(() => (fired = true), 0);
    expect(JSON.parse((await verifyCompact(small, pub)).toString('utf8')).revision).toBe(1);
    expect(fired).toBe(false);
  });

  it('refuses parts that are not unpadded base64url, even under a valid signature over their text', async () => {
    const header = b64(JSON.stringify({ alg: 'EdDSA' }));
    const payload = b64('{"a":1}');
    // Signed over the text as written: only the encoding rule refuses these.
    expect(await refusal(verifyCompact(await signParts(k, header, `${payload}=`), pub))).toBe('format');
    expect(await refusal(verifyCompact(await signParts(k, header, `${payload.slice(0, 2)} ${payload.slice(2)}`), pub))).toBe('format');
    expect(await refusal(verifyCompact(await signParts(k, header, Buffer.from('{"a":1}').toString('base64').replace(/=+$/, '') + '+/'), pub))).toBe('format');
    expect(await refusal(verifyCompact(await signParts(k, header, 'AAAAA'), pub))).toBe('format');
    const good = await signParts(k, header, payload);
    expect(await refusal(verifyCompact(`${good}=`, pub))).toBe('format');
    expect(await refusal(verifyCompact(`${good}.x`, pub))).toBe('format');
    expect(await refusal(verifyCompact(good.split('.').slice(0, 2).join('.'), pub))).toBe('format');
  });

  it('refuses a header that is not a JSON object, another alg, and any crit', async () => {
    const payload = b64('{}');
    expect(await refusal(verifyCompact(await signParts(k, b64('not json'), payload), pub))).toBe('header');
    expect(await refusal(verifyCompact(await signParts(k, b64('["EdDSA"]'), payload), pub))).toBe('header');
    expect(await refusal(verifyCompact(await signParts(k, b64('null'), payload), pub))).toBe('header');
    expect(await refusal(verifyCompact(await signParts(k, b64('{"alg":"none"}'), payload), pub))).toBe('header');
    expect(await refusal(verifyCompact(await signParts(k, b64('{}'), payload), pub))).toBe('header');
    // RFC 7797: with b64 false the payload would be the raw text; the agent implements no extension.
    const unencoded = await signParts(k, b64('{"alg":"EdDSA","b64":false,"crit":["b64"]}'), payload);
    expect(await refusal(verifyCompact(unencoded, pub))).toBe('header');
    expect(await verifyCompact(await signParts(k, b64('{"alg":"EdDSA"}'), payload), pub)).toEqual(Buffer.from('{}'));
  });

  it('refuses a key that is not an Ed25519 public key without throwing anything else', async () => {
    const jws = await signDoc(k, { revision: 1 });
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    expect(await refusal(verifyCompact(jws, KeyObject.from(privateKey as CryptoKey)))).toBe('signature');
    expect(await refusal(verifyCompact(jws, KeyObject.from(publicKey as CryptoKey)))).toBe('signature');
    // The very key that signed, as a private key: node:crypto would verify with its public half.
    expect(await refusal(verifyCompact(jws, KeyObject.from(k.priv)))).toBe('signature');
    for (const kind of ['ed448', 'x25519'] as const)
      expect(await refusal(verifyCompact(jws, generateKeyPairSync(kind as 'ed448').publicKey))).toBe('signature');
  });

  it('never takes what jose refuses: random edits of a signed document', async () => {
    const jws = await new CompactSign(new TextEncoder().encode('{"nodeId":"t.rs1","revision":7}'))
      .setProtectedHeader({ alg: 'EdDSA', kid: k.kid })
      .sign(k.priv);
    const alphabet = 'AZaz09-_.=+/ é'.split('');
    await fc.assert(
      fc.asyncProperty(fc.nat(jws.length - 1), fc.constantFrom(...alphabet), fc.boolean(), async (at, ch, insert) => {
        const edited = jws.slice(0, at) + ch + jws.slice(insert ? at : at + 1);
        const mine = await verifyCompact(edited, pub).then(
          (p) => p,
          () => null,
        );
        const theirs = await compactVerify(edited, pub, { algorithms: ['EdDSA'] }).then(
          (r) => Buffer.from(r.payload),
          () => null,
        );
        // Taken by both with the same payload, or refused here (stricter: padding, whitespace).
        if (mine !== null) expect(theirs && Buffer.compare(mine, theirs)).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});
