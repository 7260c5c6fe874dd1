import * as z from 'zod';

/** POST /v1/sites/{site}/nodes/{node}/enrollment → one-time token. */
export const EnrollmentTokenResponse = z.object({ token: z.string().min(16), expiresAt: z.string().datetime() });

/** POST /v1/agent/enroll */
export const EnrollRequest = z.strictObject({ token: z.string().min(16).max(512) });
export const EnrollResponse = z.object({
  nodeId: z.string(),
  site: z.string(),
  node: z.string(),
  mqtt: z.object({ url: z.string(), username: z.string(), password: z.string() }),
  /** Public JWKs (OKP/Ed25519) with kid, pinned by the agent. */
  keys: z.array(z.object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string(), kid: z.string() }).passthrough()).min(1),
  /** Present when the cloud wants status and events POSTed too (a Workers deployment: no process hears the broker). */
  report: z.object({ url: z.string().url() }).optional(),
});
export type EnrollResponse = z.infer<typeof EnrollResponse>;
