/**
 * The bench's agents spread over several processes (fleet-agents.ts each), behind one interface.
 * On a real fleet every agent has its host's CPU; in one process 1,000 agents take turns on one
 * core while the machine's other cores idle, and every figure measures that queue. One process per
 * core is as close to a fleet as this machine gets. Nodes are dealt round-robin, so the first two
 * (the bench site's two directors) run in different processes, as they do on two hosts.
 */

/** One agents' process, as publish.bench.ts's `startChild` gives it. */
export interface AgentsChild {
  child: { send(message: unknown): void };
  next(type: string): Promise<any>;
  received(what: string, withinS?: number): Promise<[string, any][]>;
  stop(): Promise<void>;
  readonly rssMiB: number;
  /** What it spent over the last awaited round. */
  readonly round: RoundCost;
}

/** What an agents' process spent over its last awaited round (fleet-agents.ts `done`). */
export interface RoundCost {
  /** Its CPU time, ms. */
  cpuMs: number;
  /** Of cpuMs, the kernel's part (the file calls: open, write, fsync, rename). */
  systemMs: number;
}

export interface AgentsStart {
  url: string;
  username?: string;
  password?: string;
  nodeIds: string[];
  keys: unknown[];
}

/** Deals `nodeIds` round-robin over `procs` shares (the pure part, tested). */
export function dealNodes(nodeIds: readonly string[], procs: number): string[][] {
  const shares: string[][] = Array.from({ length: Math.max(1, Math.min(procs, nodeIds.length)) }, () => []);
  nodeIds.forEach((id, i) => shares[i % shares.length].push(id));
  return shares;
}

export function agentFleet(procs: number, fork: () => AgentsChild) {
  let shares: string[][] = [];
  let kids: AgentsChild[] = [];
  /** The processes awaited in this round: those with an expected node. */
  let awaited: number[] = [];
  return {
    get processes() {
      return kids.length;
    },
    /** Starts each process with its share; answers once every agent applied its retained document. */
    async start(s: AgentsStart): Promise<{ agents: number; rssMiB: number; firstApplyMs: number; largestBytes: number }> {
      shares = dealNodes(s.nodeIds, procs);
      kids = shares.map(() => fork());
      const ready = kids.map((k) => k.next('ready'));
      kids.forEach((k, i) => k.child.send({ type: 'start', start: { ...s, nodeIds: shares[i] } }));
      const up = await Promise.all(ready);
      return {
        agents: up.reduce((t, u) => t + u.agents, 0),
        rssMiB: up.reduce((t, u) => t + u.rssMiB, 0),
        firstApplyMs: Math.max(0, ...up.map((u) => u.firstApplyMs)),
        largestBytes: Math.max(0, ...up.map((u) => u.largestBytes)),
      };
    },
    /** Every process resets for `revision`; only those holding an expected node are waited for. */
    await(revision: number, expect?: readonly string[]): void {
      const want = expect ? new Set(expect) : null;
      awaited = [];
      kids.forEach((k, i) => {
        const mine = want ? shares[i].filter((n) => want.has(n)) : undefined;
        k.child.send({ type: 'await', revision, expect: mine });
        if (!mine || mine.length) awaited.push(i);
      });
    },
    /** The awaited processes' applies, once each has all of its expected nodes'. */
    async received(what: string, withinS?: number): Promise<[string, any][]> {
      return (await Promise.all(awaited.map((i) => kids[i].received(what, withinS)))).flat();
    },
    /** Every node that applied the awaited revision, in any process. */
    async collect(): Promise<[string, any][]> {
      const got = kids.map((k) => k.next('collected'));
      for (const k of kids) k.child.send({ type: 'collect' });
      return (await Promise.all(got)).flatMap((m) => m.applied);
    },
    /** The processes' RSS at their last reports, summed. */
    get rssMiB(): number {
      return kids.reduce((t, k) => t + k.rssMiB, 0);
    },
    /** What the awaited processes spent over the last round, summed. */
    get round(): RoundCost {
      const mine = awaited.map((i) => kids[i].round);
      return {
        cpuMs: mine.reduce((t, r) => t + r.cpuMs, 0),
        systemMs: mine.reduce((t, r) => t + r.systemMs, 0),
      };
    },
    /**
     * Kernel time of creating a file in the awaited processes' state directories, µs (the slowest's):
     * asked once every one of them is done, so the probe's own files (about 100 ms of disk) delay
     * no agent of the round it describes.
     */
    async fileCreateUs(): Promise<number> {
      const probed = awaited.map((i) => kids[i].next('probed'));
      for (const i of awaited) kids[i].child.send({ type: 'probe' });
      return Math.max(0, ...(await Promise.all(probed)).map((m) => m.createUs as number));
    },
    async stop(): Promise<void> {
      await Promise.all(kids.map((k) => k.stop()));
    },
  };
}
