import type { NodeStatus } from '#shared/wire/status.ts';
import type { Dataplane } from '../dataplane/types.ts';
import { errorText } from '../errors.ts';
import type { VrrpRunner } from '../vrrp/driver.ts';
import { AgentMetrics, type AgentSnapshot } from './agent-metrics.ts';
import type { ListenAddress } from './listen-address.ts';
import { serveMetrics, type MetricsServer } from './server.ts';

/** What the running agent shows: the engine's status and the host's dataplane. */
export interface MetricsSource {
  status(): NodeStatus;
  dataplane: Pick<Dataplane, 'ipvsStats'>;
}

/**
 * `--metrics-listen`: the agent's metrics served over HTTP. Listens first (a bad address fails
 * the start before the host is touched), is given its taps into the parts as they start, and
 * shows the engine once attached (503 before).
 */
export class MetricsEndpoint {
  private readonly metrics = new AgentMetrics();
  private runner: VrrpRunner | null = null;
  private source: MetricsSource | null = null;
  private server: MetricsServer | null = null;
  private lastIpvsError = '';

  /** Handed to the parts: probe durations as they finish, the VRRP runner once started. */
  readonly taps = {
    onProbeDone: (type: string, seconds: number) => this.metrics.checkDuration.observe({ type }, seconds),
    onVrrpStarted: (r: VrrpRunner) => {
      this.runner = r;
    },
  };

  private constructor(private readonly log: (line: string) => void) {}

  static async start(at: ListenAddress, log: (line: string) => void): Promise<MetricsEndpoint> {
    const e = new MetricsEndpoint(log);
    e.server = await serveMetrics(at, () => e.render(), log);
    const { host, port } = e.server.address;
    log(`metrics on http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics`);
    return e;
  }

  get address(): ListenAddress | null {
    return this.server?.address ?? null;
  }

  attach(source: MetricsSource): void {
    this.source = source;
  }

  /** One scrape's data, read now. */
  async snapshot(): Promise<AgentSnapshot | null> {
    const src = this.source;
    if (!src) return null;
    const status = src.status();
    let ipvs: AgentSnapshot['ipvs'] = null;
    try {
      ipvs = await src.dataplane.ipvsStats();
      this.lastIpvsError = '';
    } catch (e) {
      // The LVS series are left out of this scrape; said once per distinct failure.
      const msg = errorText(e);
      if (msg !== this.lastIpvsError) this.log(`metrics: cannot read IPVS stats: ${msg}`);
      this.lastIpvsError = msg;
    }
    // A director's status lists its instances; without it (real server, VRRP failed to start) there is no engine to show.
    const vrrp = this.runner && status.vrrp ? { instances: this.runner.instances(), scripts: this.runner.scripts() } : null;
    return { status, vrrp, ipvs };
  }

  private async render(): Promise<{ contentType: string; body: string } | null> {
    const s = await this.snapshot();
    if (!s) return null;
    this.metrics.load(s);
    return { contentType: this.metrics.registry.contentType, body: await this.metrics.text() };
  }

  async close(): Promise<void> {
    await this.server?.close();
    this.server = null;
  }
}
