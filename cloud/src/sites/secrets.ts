import type { Site } from '#shared/site/site.ts';
import { DomainError } from './errors.ts';

/**
 * What a viewer or operator reads instead of a secret. Eight bytes, so a spec read, edited and
 * sent back still validates (PASS passwords are at most 8 bytes) and restoreSecrets can put the
 * stored value back.
 */
export const REDACTED = '********';

/** The spec with every secret (VRRP `auth.password`) replaced by REDACTED, for reads below admin scope. */
export function redactSecrets(site: Site): Site {
  if (!site.spec.vrrp?.some((v) => v.auth)) return site;
  return {
    ...site,
    spec: { ...site.spec, vrrp: site.spec.vrrp.map((v) => (v.auth ? { ...v, auth: { ...v.auth, password: REDACTED } } : v)) },
  };
}

/**
 * A spec sent back after a redacted read: each REDACTED password becomes the stored password of
 * the instance of the same name. A REDACTED password with nothing to restore is refused rather
 * than stored as the literal text.
 */
export function restoreSecrets(proposed: Site, current: Site | null): Site {
  if (!proposed.spec.vrrp?.some((v) => v.auth?.password === REDACTED)) return proposed;
  const stored = new Map((current?.spec.vrrp ?? []).map((v) => [v.name, v.auth?.password]));
  const vrrp = proposed.spec.vrrp.map((v, i) => {
    if (v.auth?.password !== REDACTED) return v;
    const password = stored.get(v.name);
    if (password === undefined)
      throw new DomainError('invalid', 'a redacted password has no stored value to keep', [
        { path: `spec.vrrp[${i}].auth.password`, message: `is the redaction mark but instance ${v.name} has no stored password: send the password` },
      ]);
    return { ...v, auth: { ...v.auth, password } };
  });
  return { ...proposed, spec: { ...proposed.spec, vrrp } };
}
