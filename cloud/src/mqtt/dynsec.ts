import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Db } from '../db/client.ts';
import { connectedWithin } from './connected.ts';
import { CLOUD_ROLE, bootstrapCommands, enrollCommands, isAlreadyDone, nodeRole, reenrollCommands, type DynsecCommand } from './dynsec-commands.ts';

const CONTROL = '$CONTROL/dynamic-security/v1';
const RESPONSE = `${CONTROL}/response`;

/** Errors of the dynamic-security boundary (a refused command, no answer). */
class DynsecError extends Error {
  constructor(
    readonly code: 'refused' | 'timeout' | 'connect',
    message: string,
  ) {
    super(message);
    this.name = 'DynsecError';
  }
}

export interface Dynsec {
  /** Sends commands in one request; answers each response's error ('' when it succeeded). */
  send(commands: DynsecCommand[]): Promise<string[]>;
  /** Idempotent broker set-up: default deny, cloud role on the cloud's client. */
  bootstrap(cloudUsername: string): Promise<void>;
  /** Creates (or re-keys) a node's client and role; the node can log in at once, no restart. */
  provisionNode(nodeId: string, password: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Talks to Mosquitto's dynamic-security plugin as the cloud's admin client (the one
 * `mosquitto_ctrl dynsec init` made). See infra/mosquitto/README.md.
 */
export async function connectDynsec(opts: {
  mqttUrl: string;
  username: string;
  password: string;
  timeoutMs?: number;
  log?: (l: string) => void;
  /** Opens the client (default mqtt.js's own transports; the Workers entry passes one over `connect()` sockets). */
  connect?: (url: string, options: IClientOptions) => MqttClient;
}): Promise<Dynsec> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  let client: MqttClient;
  try {
    const options: IClientOptions = {
      clientId: `lvsfleet-dynsec-${randomBytes(4).toString('hex')}`,
      username: opts.username,
      password: opts.password,
      protocolVersion: 5,
      reconnectPeriod: 1000,
      connectTimeout: Math.min(5_000, timeoutMs),
    };
    client = await connectedWithin((opts.connect ?? mqtt.connect)(opts.mqttUrl, options), timeoutMs);
  } catch (err) {
    throw new DynsecError('connect', `cannot reach the broker's dynamic-security plugin at ${opts.mqttUrl}: ${(err as Error).message}`);
  }
  const waiting = new Map<string, (errors: string[]) => void>();
  const waitingData = new Map<string, (data: unknown) => void>();
  client.on('message', (topic, payload) => {
    if (topic !== RESPONSE) return;
    let body: { responses?: { command?: string; error?: string; correlationData?: string }[] };
    try {
      body = JSON.parse(payload.toString());
    } catch {
      return;
    }
    const responses = (body.responses ?? []) as { command?: string; error?: string; correlationData?: string; data?: unknown }[];
    const id = responses[0]?.correlationData;
    const withData = id ? waitingData.get(id) : undefined;
    if (withData) return withData(responses[0].error ? undefined : responses[0].data);
    const done = id ? waiting.get(id) : undefined;
    if (done) done(responses.map((r) => r.error ?? ''));
  });
  await client.subscribeAsync(RESPONSE, { qos: 1 });

  /**
   * Publishes a command and returns at its PUBACK or when `answer` settles, whichever is first
   * (rejecting if that is a rejection): a PUBACK is waited for across reconnects, so with the
   * broker gone or kicking this client it could wait for ever.
   */
  async function publishUntil(body: unknown, answer: Promise<unknown>): Promise<void> {
    const published = client.publishAsync(CONTROL, JSON.stringify(body), { qos: 1 });
    published.catch(() => {}); // after the answer won, the publish may still fail at close
    await Promise.race([published, answer]);
  }

  async function send(commands: DynsecCommand[]): Promise<string[]> {
    const id = randomBytes(8).toString('hex');
    const answer = new Promise<string[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new DynsecError('timeout', `no dynamic-security response within ${timeoutMs} ms (is the plugin loaded?)`));
      }, timeoutMs);
      waiting.set(id, (errors) => {
        clearTimeout(timer);
        waiting.delete(id);
        resolve(errors);
      });
    });
    const body = { commands: commands.map((c) => ({ ...c, correlationData: id })) };
    try {
      await publishUntil(body, answer);
    } catch (err) {
      // No answer will come: end the wait here, or its timeout would reject with nobody listening.
      waiting.get(id)?.(['not sent']);
      answer.catch(() => {});
      throw err;
    }
    return answer;
  }

  async function hasRole(username: string, rolename: string): Promise<boolean> {
    if (!client.connected) return false;
    const id = randomBytes(8).toString('hex');
    const got = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => (waitingData.delete(id), reject(new Error('timeout'))), 2000);
      waitingData.set(id, (data) => (clearTimeout(timer), waitingData.delete(id), resolve(data)));
    });
    got.catch(() => {}); // publishUntil or the await after it reports it
    // Asked just before Mosquitto kicks this client (its roles changed), the PUBACK waits for the reconnect.
    await publishUntil({ commands: [{ command: 'getClient', username, correlationData: id }] }, got);
    const data = (await got) as { client?: { roles?: { rolename: string }[] } } | undefined;
    return !!data?.client?.roles?.some((r) => r.rolename === rolename);
  }

  /** Sends and throws on any error that is not "already so". */
  async function apply(commands: DynsecCommand[]): Promise<string[]> {
    const errors = await send(commands);
    const bad = errors.map((e, i) => [e, commands[i].command] as const).filter(([e]) => e && !isAlreadyDone(e));
    if (bad.length) throw new DynsecError('refused', bad.map(([e, c]) => `${c}: ${e}`).join('; '));
    return errors;
  }

  return {
    send,
    async bootstrap(cloudUsername) {
      const cmds = bootstrapCommands(cloudUsername);
      await apply(cmds.slice(0, -1));
      // A broker bootstrapped before (every enrollment from a Worker connects anew): nothing to add.
      if (await hasRole(cloudUsername, CLOUD_ROLE).catch(() => false)) return;
      // Mosquitto disconnects a client whose roles change, this one included, so the answer to
      // addClientRole may never come (mqtt.js resends the publish after the reconnect, before it
      // subscribes again): do not wait for it, check the result after the reconnect instead.
      void send(cmds.slice(-1)).catch(() => {});
      const end = Date.now() + timeoutMs;
      for (;;) {
        try {
          if (await hasRole(cloudUsername, CLOUD_ROLE)) return;
        } catch {
          /* reconnecting */
        }
        if (Date.now() > end) throw new DynsecError('refused', `client ${cloudUsername} did not get role ${CLOUD_ROLE}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async provisionNode(nodeId, password) {
      const errors = await apply(enrollCommands(nodeId, password));
      // createClient failed as "already exists": an earlier enrollment; re-key it.
      if (errors[1] && isAlreadyDone(errors[1])) {
        await apply(reenrollCommands(nodeId, password));
        if (!(await hasRole(nodeId, nodeRole(nodeId)))) await apply([{ command: 'addClientRole', username: nodeId, rolename: nodeRole(nodeId), priority: 10 }]);
      }
      opts.log?.(`mqtt: dynamic-security client and role for ${nodeId} ready`);
    },
    async close() {
      for (const done of waiting.values()) done(['closed']);
      await client.endAsync(true).catch(() => {});
    },
  };
}

/**
 * Wraps `issueNodeCredentials` (AppDeps.issueNodeCredentials) so each issued credential also
 * becomes a Mosquitto client. It runs inside the enrollment transaction: if the broker refuses,
 * the transaction rolls back and the enrollment token stays unused.
 */
export function issueWithDynsec(
  issue: (db: Db, nodeId: string) => Promise<{ username: string; password: string }>,
  dynsec: Pick<Dynsec, 'provisionNode'>,
): (db: Db, nodeId: string) => Promise<{ username: string; password: string }> {
  return async (db, nodeId) => {
    const creds = await issue(db, nodeId);
    await dynsec.provisionNode(creds.username, creds.password);
    return creds;
  };
}

/**
 * For `--mqtt-url`: answers a Dynsec when the broker runs Mosquitto's dynamic-security plugin
 * and this user may administer it, else null (any other broker: credentials then have to be
 * provisioned on that broker by other means).
 */
export async function probeDynsec(opts: { mqttUrl: string; username?: string; password?: string; log?: (l: string) => void }): Promise<Dynsec | null> {
  if (!opts.username || !opts.password) return null;
  let d: Dynsec;
  try {
    d = await connectDynsec({ mqttUrl: opts.mqttUrl, username: opts.username, password: opts.password, timeoutMs: 2000, log: opts.log });
  } catch {
    return null;
  }
  try {
    const [err] = await d.send([{ command: 'getDefaultACLAccess' }]);
    if (err) throw new Error(err);
    return d;
  } catch {
    await d.close();
    return null;
  }
}
