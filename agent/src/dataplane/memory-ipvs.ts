import { isValidIpv6 } from '#shared/util/ip.ts';
import { AgentError } from '../errors.ts';
import { parseLine, renderBatch, renderOp, renderSave } from '#shared/ipvs/codec.ts';
import type { IpvsDest, IpvsOp, IpvsService, IpvsServiceState, IpvsTable } from '#shared/ipvs/model.ts';
import { destKey, realServerKey, serviceKey } from '#shared/ipvs/model.ts';
import { SCHEDULERS } from '#shared/site/ipvs-words.ts';

const clone = <T>(v: T): T => structuredClone(v);
/**
 * Copies of what an operation stores, made field by field: the model's values are flat but for
 * `flags` and `persistence`, and structuredClone costs ~5 µs per object, 15 ms of a dry-run
 * agent's start with 1,000 services.
 */
const copyService = (s: IpvsService): IpvsService => ({
  protocol: s.protocol,
  address: s.address,
  port: s.port,
  fwmark: s.fwmark,
  ...(s.family === 6 ? { family: 6 as const } : {}),
  scheduler: s.scheduler,
  flags: [...s.flags],
  persistence: s.persistence && { timeoutS: s.persistence.timeoutS, netmask: s.persistence.netmask },
  onePacket: s.onePacket,
});
const copyDest = (d: IpvsDest): IpvsDest => ({ ...d });

/**
 * An in-memory model of the kernel's IPVS table that rejects what the kernel and ipvsadm reject,
 * with ipvsadm's own messages (ipvsadm.c ipvs_strerror). IPv6 services and destinations are
 * kept like IPv4 ones; mixing families in one service is allowed for TUN only, as in the kernel. Batches behave like `ipvsadm -R`:
 * lines apply in order and the first failing line stops the batch, earlier lines stay applied.
 */
export class MemoryIpvs {
  /** Keyed by serviceKey; a Map keeps insertion order, which is the order -Sn prints. */
  private table = new Map<string, IpvsServiceState>();
  /** Active connections per realServerKey(serviceKey, dest), set by tests to exercise draining. */
  readonly activeConns = new Map<string, number>();
  /** Every batch received, for tests that count processes/ops. */
  readonly batches: string[] = [];

  save(): string {
    return renderSave([...this.table.values()]);
  }

  snapshot(): IpvsTable {
    return clone([...this.table.values()]);
  }

  /** Applies an `ipvsadm -R` batch; throws IPVS_REJECTED naming the line that failed. */
  restore(text: string): void {
    this.batches.push(text);
    const lines = text.split('\n').filter((l) => l.trim());
    lines.forEach((line, i) => {
      try {
        this.applyOp(parseLine(line));
      } catch (e) {
        throw new AgentError('IPVS_REJECTED', `ipvsadm -R line ${i + 1} "${line}": ${(e as Error).message}`);
      }
    });
  }

  /**
   * The batch `ops` as `restore` applies its text (recorded in `batches` as that text, the same
   * checks, the same failure naming the line), without printing the lines and parsing them back:
   * that round trip is the codec's (its own tests hold it), and for 1,000 services it was ~70 ms of
   * a dry-run agent's start. Answers the batch's text. What the table then holds is read back through the codec
   * (MemoryHost.ipvsRead: `-Sn` text, parsed), as from a kernel.
   */
  apply(ops: readonly IpvsOp[]): string {
    const text = renderBatch([...ops]);
    this.batches.push(text);
    ops.forEach((op, i) => {
      try {
        this.applyOp(op);
      } catch (e) {
        throw new AgentError('IPVS_REJECTED', `ipvsadm -R line ${i + 1} "${renderOp(op)}": ${(e as Error).message}`);
      }
    });
    return text;
  }

  private find(key: string): IpvsServiceState | undefined {
    return this.table.get(key);
  }

  private validateService(s: IpvsServiceState | IpvsOp['service']): void {
    if (!(SCHEDULERS as readonly string[]).includes(s.scheduler)) throw new Error('Scheduler or persistence engine not found');
    if (s.fwmark === 0 && (s.address === null || s.port === 0) && !s.persistence) throw new Error('Zero port specified for non-persistent service');
    if (s.persistence && s.persistence.timeoutS < 1) throw new Error('illegal timeout for persistent service');
  }

  private validateDest(s: IpvsServiceState, d: IpvsDest): void {
    if (!Number.isInteger(d.weight) || d.weight < 0 || d.weight > 65535) throw new Error('illegal weight specified');
    // ipvsadm silently sets a DR/TUN destination's port to the service's (ipvsadm.c,
    // process_options); the model refuses instead, so a plan relying on that rewrite fails here
    // rather than leaving a table that never matches its desired state. An fwmark service has no
    // port: ipvsadm and the kernel take any destination port there, 0 meaning the packet's own.
    if (s.fwmark === 0 && d.forwarding !== 'nat' && d.port !== s.port) throw new Error('port mapping is only possible with masquerading (NAT)');
    if (d.upperThreshold && d.lowerThreshold > d.upperThreshold) throw new Error('lower threshold above upper threshold');
    // A destination of the other address family: the kernel (ip_vs_ctl.c, ip_vs_genl_set_cmd)
    // forwards only tunnelled traffic across families (an IPv6 real server behind an IPv4 VIP
    // over ip6ip6/ipip), and answers EINVAL for DR and NAT; ipvsadm 1.31 refuses first, with the
    // message below (seen in the kernel lab). An fwmark service has the family ipvsadm's -6 gives it.
    if ((s.family === 6 || (s.address !== null && isValidIpv6(s.address))) !== isValidIpv6(d.address) && d.forwarding !== 'tun')
      throw new Error('Different address family is allowed only for tunneling servers');
  }

  private applyOp(op: IpvsOp): void {
    const key = serviceKey(op.service);
    const svc = this.find(key);
    switch (op.op) {
      case 'add-service':
        if (svc) throw new Error('Service already exists');
        this.validateService(op.service);
        this.table.set(key, { ...copyService(op.service), dests: [] });
        return;
      case 'edit-service':
        if (!svc) throw new Error('No such service');
        this.validateService(op.service);
        Object.assign(svc, copyService(op.service), { dests: svc.dests });
        return;
      case 'delete-service':
        if (!svc) throw new Error('No such service');
        this.table.delete(key);
        return;
      default:
        break; // destination operations, below
    }
    if (!svc) throw new Error(op.op === 'add-dest' ? 'Service not defined' : 'No such service');
    const dk = destKey(op.dest);
    const idx = svc.dests.findIndex((d) => destKey(d) === dk);
    switch (op.op) {
      case 'add-dest':
        if (idx >= 0) throw new Error('Destination already exists');
        this.validateDest(svc, op.dest);
        svc.dests.push(copyDest(op.dest));
        return;
      case 'edit-dest':
        if (idx < 0) throw new Error('No such destination');
        this.validateDest(svc, op.dest);
        svc.dests[idx] = copyDest(op.dest);
        return;
      case 'delete-dest':
        if (idx < 0) throw new Error('No such destination');
        svc.dests.splice(idx, 1);
        this.activeConns.delete(realServerKey(key, op.dest));
        return;
    }
  }
}
