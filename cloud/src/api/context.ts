import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import type { JWK } from 'jose';
import type { TokenIdentity } from '../auth/tokens.ts';
import type { Db } from '../db/client.ts';
import type { Handoff } from '../sites/apply.ts';
import type { WebhookTargetPolicy } from '../alerts/webhook-target.ts';
import type { RequestLimits } from './rate-limit.ts';
import type { StatusBook } from '../status/book.ts';

/** What the app core needs from its host (Node `serve` or the Workers entry). */
export interface AppDeps {
  db: Db;
  /**
   * Wakes the publisher after an apply committed (Node: the publisher loop; Workers: the sites'
   * Durable Objects). `handedOff`: the apply's rows went to `handoff`, so the publisher need not
   * read the outbox for them.
   */
  kick?: (after?: { handedOff: boolean }) => void;
  /** A publisher in this process takes the rows an apply wrote without reading them back (Node `serve`). */
  handoff?: Handoff;
  /** Wakes the key rotation loop after `keys rotate` (absent on Workers: the Node server's loop finds the new key itself). */
  kickKeys?: () => void;
  /** Seals private signing keys made by `keys rotate` (cloud/src/keys/sealed-jwk.ts); stored plain when absent. */
  keySecret?: string;
  /** Public signing keys agents pin at enrollment (cloud/src/keys/signing.ts `Signer`). */
  signer?: { publicJwks(): Promise<JWK[]> };
  /** Issues broker credentials for a node, inside the enrollment transaction (cloud/src/mqtt/credentials.ts). */
  issueNodeCredentials?: (db: Db, nodeId: string) => Promise<{ username: string; password: string }>;
  /** The broker URL agents connect to, answered at enrollment. */
  mqttUrl?: string;
  /**
   * Where agents also POST their status and events (`/v1/agent/status|events`), answered at
   * enrollment; absent when the host subscribes to the broker itself (Node).
   */
  reportUrl?: string;
  enrollmentTtlMs?: number;
  /** Largest accepted request body; default 1 MiB. */
  maxBodyBytes?: number;
  /** Largest site spec (`PUT /v1/sites/{site}/spec`) by format, never under maxBodyBytes; default SPEC_BODY_LIMITS. */
  specBodyLimits?: { json: number; yaml: number };
  log?: (line: string) => void;
  /** Request limits per client address and per token (429 with Retry-After); none when absent. */
  rateLimits?: RequestLimits;
  /** The client's address, for the per-address limit (Node: the socket's remote address). */
  clientAddress?: (c: Context) => string | undefined;
  /** Where webhooks may point (default: public addresses only; names are not resolved). */
  webhookTargets?: WebhookTargetPolicy;
  /** Site status (one per process, shared with alerts and metrics); the app makes its own when absent. */
  status?: StatusBook;
  /**
   * `GET /metrics` (Prometheus). `render` answers the exposition; `middleware`, where the host
   * keeps a process alive to count in (Node), sees every request. The Worker gives only `render`:
   * the fleet families read from the database (cloud/src/metrics/).
   */
  metrics?: {
    middleware?: MiddlewareHandler;
    render(): Promise<{ contentType: string; body: string }>;
    /**
     * The bearer token a scrape must carry. Absent: none asked (`lvsfleet serve`, whose port sits
     * on a private network). null: /metrics is off (a Worker without its METRICS_TOKEN secret: a
     * public hostname must not give site, node and service names to anyone who asks).
     */
    token?: string | null;
  };
}

/** `auth`: whose request it is; `session`: the dashboard session it was made with (absent for bearer tokens). */
export type AppEnv = { Variables: { auth: TokenIdentity; session?: { secret: string; expiresAt: Date } } };
export type App = OpenAPIHono<AppEnv>;
