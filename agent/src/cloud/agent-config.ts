import * as z from 'zod';
import { NODE_ID_RE } from '#shared/wire/topics.ts';
import { parseListenAddress } from '../metrics/listen-address.ts';

/** /etc/lvsfleet/agent.json, written by `lvsfleet-agent enroll` (mode 0600: it holds broker credentials). */
export const AgentConfig = z.strictObject({
  url: z.string().url(),
  nodeId: z.string().regex(NODE_ID_RE),
  site: z.string().min(1),
  node: z.string().min(1),
  mqtt: z.strictObject({ url: z.string().min(1), username: z.string().min(1), password: z.string().min(1) }),
  /** Where status and events are POSTed too (from enrollment: a cloud that hears no broker, e.g. Workers). */
  report: z.strictObject({ url: z.string().url() }).optional(),
  /** The cloud's public signing keys, pinned at enrollment. */
  keys: z.array(z.object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string(), kid: z.string() }).passthrough()).min(1),
  stateDir: z.string().min(1).optional(),
  /** Prometheus metrics on `listen` (ADDR:PORT); `run --metrics-listen` overrides it. Off when absent. */
  metrics: z
    .strictObject({
      listen: z.string().refine((v) => parseListenAddress(v) !== null, 'expected ADDR:PORT, e.g. 127.0.0.1:9650 or [::1]:9650'),
    })
    .optional(),
  /**
   * The spec's scripts: directories they may run from and the user they run as (`run
   * --allow-scripts` / `--script-user` override these). Absent: no script runs.
   */
  scripts: z
    .strictObject({
      allow: z.array(z.string().min(1).max(4096)).max(64).optional(),
      user: z.string().min(1).max(64).optional(),
    })
    .optional(),
  enrolledAt: z.string().datetime(),
});
export type AgentConfig = z.infer<typeof AgentConfig>;
