/**
 * Every `lvsfleet` command in one table: what it does, how it is called, its flags and examples.
 * `--help` (cloud/src/cli/help.ts) and shell completion (cloud/src/cli/completion.ts) are made
 * from it, and a test walks it so a command without help text or examples fails. A command's
 * code is loaded only when it runs, so `validate` never loads the server.
 *
 * Adding a command: an entry here (with `load`) and `commands/NAME.ts` exporting
 * `run(argv, io): Promise<number>` (0 ok, 1 runtime failure, 2 bad input, 3 "something to report"
 * where the command documents it).
 */
import type { CliIO } from './io.ts';

export interface FlagSpec {
  /** Long name without dashes. */
  name: string;
  short?: string;
  /** Placeholder of the value (`FILE`); none for a boolean flag. */
  value?: string;
  /** The values it takes, for completion (`table`, `json`, …). */
  values?: readonly string[];
  help: string;
}

export interface CommandSpec {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Call forms, without the leading `lvsfleet`. */
  usage: string[];
  /** What it does, in a few sentences: exit codes, scopes, defaults. */
  description?: string;
  flags?: FlagSpec[];
  /** Words the first argument may be (not subcommands): `get sites|nodes|services`. */
  args?: readonly string[];
  /** Full command lines, each a thing a user would type. */
  examples: string[];
  subcommands?: CommandSpec[];
  load?: () => Promise<{ run: (argv: string[], io: CliIO) => Promise<number> }>;
}

const OUTPUT_VALUES = ['table', 'json', 'yaml'] as const;

const output = (values: readonly string[] = OUTPUT_VALUES): FlagSpec => ({ name: 'output', short: 'o', value: 'FORMAT', values, help: `${values.join('|')}` });
const site: FlagSpec = { name: 'site', value: 'SITE', help: 'the site' };
const file: FlagSpec = { name: 'file', short: 'f', value: 'FILE', help: 'the site spec, YAML or JSON ("-" for stdin)' };

/** Flags every API command takes; `lvsfleet --help` explains their precedence. */
export const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'url', value: 'URL', help: 'the lvsfleet server (else LVSFLEET_URL, else the context)' },
  { name: 'token', value: 'TOKEN', help: "bearer token (else LVSFLEET_TOKEN, else the context's token file); visible in ps, prefer a context" },
  { name: 'context', value: 'NAME', help: 'a context of the config file (else LVSFLEET_CONTEXT, else its current context)' },
];

/** Flags of the commands that make an operational override. */
const OVERRIDE_FLAGS: FlagSpec[] = [
  { name: 'for', value: 'DURATION', help: 'how long (30m, 2h, 1d); required unless --until' },
  { name: 'until', value: 'TIME', help: 'an absolute end (ISO 8601) instead of --for' },
  { name: 'reason', short: 'm', value: 'TEXT', help: 'why, recorded with the override' },
  { name: 'force', help: 'allow an override the safety check refuses (needs --force-reason)' },
  { name: 'force-reason', value: 'TEXT', help: 'why the refusal is overridden' },
  { name: 'wait', help: 'wait until every node reports it applied (a drain: drained)' },
  { name: 'timeout', value: 'DURATION', help: 'how long --wait waits' },
  output(),
];

/** drain (of a real server) and disable: when --wait may call the drain done with connections left. */
const DRAIN_TIMEOUT_FLAG: FlagSpec = {
  name: 'drain-timeout',
  value: 'DURATION',
  help: 'report drained after this long even with connections left (default 5m); connections are never cut',
};

export const COMMANDS: CommandSpec[] = [
  {
    name: 'serve',
    summary: 'run the API, status pages, publisher, ingest and embedded broker',
    usage: ['serve [--port N] [--host ADDR] [--data-dir DIR] [--database-url-file FILE] [--mqtt-url-file FILE] [--mqtt-port N]'],
    description:
      "Runs until SIGINT or SIGTERM. Without --database-url the database is an embedded PostgreSQL (PGlite) in --data-dir; without --mqtt-url an embedded broker listens on --mqtt-port. The first start prints an admin token once. With LVSFLEET_SIGNING_KEY_SECRET set, private signing keys are stored sealed under it (give it the value of a Workers deployment's SIGNING_KEY_SECRET on the same database).",
    flags: [
      { name: 'port', value: 'N', help: 'HTTP port (default 8080)' },
      { name: 'host', value: 'ADDR', help: 'HTTP address (default 127.0.0.1)' },
      { name: 'data-dir', value: 'DIR', help: 'embedded database and admin token file (default .lvsfleet)' },
      { name: 'database-url', value: 'URL', help: 'PostgreSQL URL (visible in ps: prefer --database-url-file or LVSFLEET_DATABASE_URL)' },
      { name: 'database-url-file', value: 'FILE', help: 'file holding the PostgreSQL URL' },
      { name: 'mqtt-url', value: 'URL', help: 'an external broker (visible in ps: prefer --mqtt-url-file or LVSFLEET_MQTT_URL)' },
      { name: 'mqtt-url-file', value: 'FILE', help: 'file holding the broker URL' },
      { name: 'mqtt-port', value: 'N', help: 'embedded broker port (default 18830)' },
      { name: 'public-mqtt-url', value: 'URL', help: 'the broker URL agents are told at enrollment' },
      { name: 'admin-token-file', value: 'FILE', help: 'bootstrap admin token from a file (else LVSFLEET_ADMIN_TOKEN)' },
      { name: 'mqtt-dynsec', help: 'manage node logins through Mosquitto dynamic security' },
      { name: 'webhook-allow-private', help: 'let webhooks target loopback and private addresses' },
      { name: 'webhook-timeout', value: 'DURATION', help: 'how long one webhook send may take before it is retried, 1s–60s (default 10s)' },
      {
        name: 'event-retention-days',
        value: 'N',
        help: 'days of events and finished webhook deliveries kept (resolved alerts at least 30), 0 for all (default 30)',
      },
    ],
    examples: [
      'lvsfleet serve',
      'lvsfleet serve --port 9090 --data-dir /var/lib/lvsfleet-cloud',
      'LVSFLEET_DATABASE_URL=postgres://… lvsfleet serve --mqtt-url-file /run/secrets/mqtt',
    ],
    load: () => import('./commands/serve.ts'),
  },
  {
    name: 'validate',
    summary: 'check a site spec offline',
    usage: ['validate -f FILE [-o text|json]'],
    description: 'Exit 0 when the spec is valid, 2 with FILE:LINE: path: message lines when not. Needs no server.',
    flags: [file, output(['text', 'json'])],
    examples: ['lvsfleet validate -f site.yaml', 'cat site.yaml | lvsfleet validate -f -', 'lvsfleet validate -f site.yaml -o json | jq .issues'],
    load: () => import('./commands/validate.ts'),
  },
  {
    name: 'apply',
    summary: 'store a new revision of a site and publish it',
    usage: ['apply -f FILE [--dry-run] [--message M] [--force] [--if-match REV] [--wait [--timeout 5m]] [-o text|json]'],
    description:
      'Validates offline first (FILE:LINE errors, exit 2), then PUTs the spec (operator token). A change removing more than half of the services or real servers is refused without --force.',
    flags: [
      file,
      { name: 'dry-run', help: 'show what would change; store nothing' },
      { name: 'message', short: 'm', value: 'M', help: 'why, kept with the revision' },
      { name: 'force', help: 'allow a mass delete' },
      { name: 'if-match', value: 'REV', help: 'refuse unless the current revision is REV' },
      {
        name: 'wait',
        help: 'follow the revision (stage by stage under a staged rollout) until every node applied it, a line per node (past 20 nodes, a count per stage); exit 1 on a failure, a rollback or the timeout',
      },
      { name: 'timeout', value: 'DURATION', help: 'how long --wait waits (default 5m)' },
      output(['text', 'json']),
    ],
    examples: [
      'lvsfleet apply -f site.yaml -m "add rs3"',
      'lvsfleet apply -f site.yaml --dry-run',
      'lvsfleet apply -f site.yaml --if-match 7',
      'lvsfleet apply -f site.yaml --wait --timeout 2m',
    ],
    load: () => import('./commands/apply.ts'),
  },
  {
    name: 'diff',
    summary: 'show, field by field, what applying a file would change',
    usage: ['diff -f FILE [--exit-code] [-o text|json]'],
    description:
      'A dry run: nothing is written. Prints each changed field per object (services.web.scheduler: wlc → rr) and which nodes get a new config; colour on a terminal unless NO_COLOR is set. With --exit-code: 0 no changes, 1 error, 3 changes (like terraform plan -detailed-exitcode).',
    flags: [file, { name: 'exit-code', help: 'exit 3 when there are changes' }, output(['text', 'json'])],
    examples: ['lvsfleet diff -f site.yaml', 'lvsfleet diff -f site.yaml --exit-code; echo $?', 'lvsfleet diff -f site.yaml -o json'],
    load: () => import('./commands/diff.ts'),
  },
  {
    name: 'get',
    summary: 'list sites, nodes or services',
    usage: ['get sites|nodes|services [--site SITE] [-o table|wide|name|json|yaml|jsonpath=EXPR]'],
    description:
      'nodes and services need --site. -o wide adds columns, -o name prints kind/name lines, -o jsonpath=EXPR prints what EXPR selects from the JSON list: $ is the list, then .field, [N], [*] and ..field; strings print bare, one per line.',
    args: ['sites', 'nodes', 'services'],
    flags: [site, output(['table', 'wide', 'name', 'json', 'yaml', 'jsonpath='])],
    examples: [
      'lvsfleet get sites',
      'lvsfleet get nodes --site bj-dc1 -o wide',
      'lvsfleet get services --site bj-dc1 -o name',
      "lvsfleet get services --site bj-dc1 -o 'jsonpath=$[*].realServers[*].address'",
    ],
    load: () => import('./commands/get.ts'),
  },
  {
    name: 'status',
    summary: 'state and reasons of a site: nodes, VRRP, real servers',
    usage: ['status [SITE] [-o table|json|yaml] [--exit-code]'],
    description: 'Every site when none is named. With --exit-code: 0 when every site shown is operational, 3 when one is not, 1 on an error.',
    flags: [output(), { name: 'exit-code', help: 'exit 3 when a site is not operational' }],
    examples: ['lvsfleet status', 'lvsfleet status bj-dc1 -o json', 'lvsfleet status bj-dc1 --exit-code || page-oncall'],
    load: () => import('./commands/status.ts'),
  },
  {
    name: 'audit',
    summary: 'who changed what, and when',
    usage: ['audit [--site SITE] [--since DURATION] [--action A] [--limit N] [-o table|json|yaml]'],
    description:
      'Reads the audit log (admin token): applies, rollbacks, enrollments, token and webhook changes, newest first. --since takes a duration (24h, 7d, 90m); default 24h. Pages through up to --limit entries (default 100).',
    flags: [
      site,
      { name: 'since', value: 'DURATION', help: 'how far back (default 24h)' },
      { name: 'action', value: 'A', help: 'only this action (site.apply, token.create, …)' },
      { name: 'limit', value: 'N', help: 'at most N entries (default 100)' },
      output(),
    ],
    examples: ['lvsfleet audit', 'lvsfleet audit --site bj-dc1 --since 7d', 'lvsfleet audit --action token.create -o json'],
    load: () => import('./commands/audit.ts'),
  },
  {
    name: 'token',
    summary: 'make, list and revoke API tokens',
    usage: ['token create NAME --scope viewer|operator|admin [--expires DURATION]', 'token list [-o table|json|yaml]', 'token revoke ID'],
    description: 'Needs an admin token. A new token is printed once; the server keeps only its hash.',
    examples: ['lvsfleet token create dashboard --scope viewer', 'lvsfleet token list'],
    subcommands: [
      {
        name: 'create',
        summary: 'make a token; its secret is printed once',
        usage: ['token create NAME --scope viewer|operator|admin [--expires DURATION] [-o text|json]'],
        description: 'viewer reads, operator also applies and enrolls, admin also manages tokens and webhooks. --expires takes a duration (30d, 12h).',
        flags: [
          { name: 'scope', value: 'SCOPE', values: ['viewer', 'operator', 'admin'], help: 'what it may do' },
          { name: 'expires', value: 'DURATION', help: 'lifetime (default: until revoked)' },
          output(['text', 'json']),
        ],
        examples: ['lvsfleet token create dashboard --scope viewer', 'lvsfleet token create ci --scope operator --expires 30d -o json'],
      },
      {
        name: 'list',
        summary: 'tokens of the org, without secrets',
        usage: ['token list [-o table|json|yaml]'],
        flags: [output()],
        examples: ['lvsfleet token list', 'lvsfleet token list -o json'],
      },
      {
        name: 'revoke',
        summary: 'revoke a token at once',
        usage: ['token revoke ID'],
        examples: ['lvsfleet token revoke 6f1c2d3e-…'],
      },
    ],
    load: () => import('./commands/token.ts'),
  },
  {
    name: 'enroll-token',
    summary: 'one-time token for a node to enroll',
    usage: ['enroll-token --site SITE --node NODE [--ttl SECONDS] [--replace] [-o text|json]'],
    description: 'Operator token. --replace is needed for a node that is already enrolled (the old credentials stop working).',
    flags: [
      site,
      { name: 'node', value: 'NODE', help: 'the node, as named in the spec' },
      { name: 'ttl', value: 'SECONDS', help: 'lifetime (default 3600, at least 60)' },
      { name: 'replace', help: 're-enroll a node that is enrolled' },
      output(['text', 'json']),
    ],
    examples: ['lvsfleet enroll-token --site bj-dc1 --node dr1', 'lvsfleet enroll-token --site bj-dc1 --node dr1 --replace --ttl 600'],
    load: () => import('./commands/enroll-token.ts'),
  },
  {
    name: 'import',
    summary: 'turn keepalived.conf or ipvsadm -S output into a site spec',
    usage: ['import keepalived FILE… [options]', 'import ipvsadm FILE --address IP [options]'],
    description: 'Prints a site spec on stdout; warnings and errors go to stderr as FILE:LINE: message. Exit 0 ok (warnings allowed), 2 invalid input.',
    examples: ['lvsfleet import keepalived dr1/keepalived.conf dr2/keepalived.conf --site bj-dc1 > site.yaml'],
    subcommands: [
      {
        name: 'keepalived',
        summary: 'one keepalived.conf per director (with its includes) → one site',
        usage: ['import keepalived FILE… [--site NAME] [-o yaml|json] [--realservers-as-nodes] [--address NAME=IP]… [--strict] [--config-id ID]'],
        flags: [
          { name: 'site', value: 'NAME', help: "the site's name (default imported)" },
          output(['yaml', 'json']),
          { name: 'address', value: 'NAME=IP', help: 'a director address its file does not give' },
          { name: 'realservers-as-nodes', help: 'make every real server a realserver node' },
          { name: 'strict', help: 'refuse what keepalived tolerates and corrects' },
          { name: 'config-id', value: 'ID', help: "keepalived's -i: read the @ID lines" },
        ],
        examples: ['lvsfleet import keepalived dr1.conf dr2.conf --site bj-dc1', 'lvsfleet import keepalived keepalived.conf --address lb1=10.0.0.2 -o json'],
      },
      {
        name: 'ipvsadm',
        summary: 'ipvsadm -S / -Sn output → one director’s services',
        usage: ['import ipvsadm FILE [--site NAME] [--node NAME] --address IP [--interface IF] [-o yaml|json]'],
        flags: [
          { name: 'site', value: 'NAME', help: "the site's name (default imported)" },
          { name: 'node', value: 'NAME', help: "the director's name (default director1)" },
          { name: 'address', value: 'IP', help: "the director's address" },
          { name: 'interface', value: 'IF', help: "the director's interface" },
          output(['yaml', 'json']),
        ],
        examples: ['ipvsadm -Sn | lvsfleet import ipvsadm - --address 10.0.0.2', 'lvsfleet import ipvsadm rules.txt --node lb1 --address 10.0.0.2'],
      },
    ],
    load: () => import('./commands/import.ts'),
  },
  {
    name: 'export',
    summary: 'render a node’s keepalived.conf or ipvsadm rules',
    usage: ['export keepalived|ipvsadm (--site SITE | --spec FILE) --node NODE [--out FILE]'],
    description: 'From the stored site (--site, viewer token) or a local spec file (--spec, offline). Warnings go to stderr.',
    examples: ['lvsfleet export keepalived --spec site.yaml --node dr1'],
    subcommands: ['keepalived', 'ipvsadm'].map((kind) => ({
      name: kind,
      summary: kind === 'keepalived' ? 'keepalived.conf for a director' : 'ipvsadm -R input for a director',
      usage: [`export ${kind} (--site SITE | --spec FILE) --node NODE [--out FILE]`],
      flags: [
        site,
        { name: 'spec', value: 'FILE', help: 'a local site spec instead of the stored site' },
        { name: 'node', value: 'NODE', help: 'the director' },
        { name: 'out', value: 'FILE', help: 'write here (atomically) instead of stdout' },
      ],
      examples: [`lvsfleet export ${kind} --site bj-dc1 --node dr1`, `lvsfleet export ${kind} --spec site.yaml --node dr2 --out /tmp/${kind}.out`],
    })),
    load: () => import('./commands/export.ts'),
  },
  {
    name: 'webhook',
    summary: 'send events to a URL (Standard Webhooks or Slack)',
    usage: ['webhook add URL [options]', 'webhook list', 'webhook rm ID', 'webhook deliveries ID', 'webhook test ID', 'webhook redeliver ID EVENT'],
    description: 'Needs an admin token.',
    examples: ['lvsfleet webhook add https://hooks.example.com/lb --min-severity warning', 'lvsfleet webhook list'],
    subcommands: [
      {
        name: 'add',
        summary: 'subscribe a URL',
        usage: ['webhook add URL [--format standard|slack] [--event TYPE]… [--site SITE] [--min-severity info|warning|critical]'],
        flags: [
          { name: 'format', value: 'F', values: ['standard', 'slack'], help: 'payload shape (default standard)' },
          { name: 'event', value: 'TYPE', help: 'only this event type (repeatable; default all)' },
          site,
          { name: 'min-severity', value: 'S', values: ['info', 'warning', 'critical'], help: 'least severity delivered (default info)' },
        ],
        examples: [
          'lvsfleet webhook add https://hooks.example.com/lb',
          'lvsfleet webhook add https://hooks.slack.com/services/… --format slack --min-severity critical',
        ],
      },
      { name: 'list', summary: 'the webhooks', usage: ['webhook list [-o table|json|yaml]'], flags: [output()], examples: ['lvsfleet webhook list -o json'] },
      { name: 'rm', summary: 'disable a webhook', usage: ['webhook rm ID'], examples: ['lvsfleet webhook rm wh_123'] },
      {
        name: 'deliveries',
        summary: 'recent deliveries of a webhook',
        usage: ['webhook deliveries ID [-o table|json|yaml]'],
        flags: [output()],
        examples: ['lvsfleet webhook deliveries wh_123'],
      },
      { name: 'test', summary: 'queue a test event', usage: ['webhook test ID'], examples: ['lvsfleet webhook test wh_123'] },
      { name: 'redeliver', summary: 'queue a past event again', usage: ['webhook redeliver ID EVENT'], examples: ['lvsfleet webhook redeliver wh_123 42'] },
    ],
    load: () => import('./commands/webhook.ts'),
  },
  {
    name: 'config',
    summary: 'contexts: which server and token the CLI uses',
    usage: ['config get-contexts', 'config use-context NAME', 'config set-context NAME [--url URL] [--token-file FILE]', 'config current-context'],
    description:
      'The config file is $XDG_CONFIG_HOME/lvsfleet/config.yaml (default ~/.config/lvsfleet/config.yaml; LVSFLEET_CONFIG names another). A context is a server URL and a file holding its token. Precedence: --url/--token, then --context, then LVSFLEET_URL/LVSFLEET_TOKEN, then LVSFLEET_CONTEXT or the current context, then http://127.0.0.1:8080.',
    examples: ['lvsfleet config set-context prod --url https://lb.example.com --token-file ~/.config/lvsfleet/prod.token', 'lvsfleet config use-context prod'],
    subcommands: [
      {
        name: 'get-contexts',
        summary: 'list the contexts; * marks the current one',
        usage: ['config get-contexts [-o table|json|yaml|name]'],
        flags: [output([...OUTPUT_VALUES, 'name'])],
        examples: ['lvsfleet config get-contexts', 'lvsfleet config get-contexts -o name'],
      },
      { name: 'use-context', summary: 'make a context the current one', usage: ['config use-context NAME'], examples: ['lvsfleet config use-context lab'] },
      {
        name: 'set-context',
        summary: 'add or change a context',
        usage: ['config set-context NAME [--url URL] [--token-file FILE]'],
        description: 'A relative --token-file is kept relative to the config file; ~ is your home.',
        flags: [
          { name: 'url', value: 'URL', help: 'the server' },
          { name: 'token-file', value: 'FILE', help: 'a file (mode 0600) holding the bearer token' },
        ],
        examples: ['lvsfleet config set-context lab --url http://127.0.0.1:8080 --token-file .lvsfleet/admin-token'],
      },
      { name: 'current-context', summary: 'print the current context', usage: ['config current-context'], examples: ['lvsfleet config current-context'] },
    ],
    load: () => import('./commands/config.ts'),
  },
  {
    name: 'completion',
    summary: 'shell completion script',
    usage: ['completion bash|zsh|fish'],
    description: 'Prints a completion script made from this command table.',
    args: ['bash', 'zsh', 'fish'],
    examples: [
      'source <(lvsfleet completion bash)',
      'lvsfleet completion zsh > "${fpath[1]}/_lvsfleet"',
      'lvsfleet completion fish > ~/.config/fish/completions/lvsfleet.fish',
    ],
    load: () => import('./commands/completion.ts'),
  },
  {
    name: 'rollout',
    summary: 'the staged rollout of a site: status, pause, resume, abort',
    usage: ['rollout status|pause|resume|abort SITE [-o table|json|yaml]'],
    description:
      'A site with a VRRP pair gets a new revision in stages (spec.rollout): real servers and BACKUP directors first, the MASTER after the bake. abort restores the previous revision on the nodes already changed. pause/resume/abort need an operator token.',
    flags: [output()],
    subcommands: [
      {
        name: 'status',
        summary: 'the rollout in progress and the last ones',
        usage: ['rollout status SITE [-o table|json|yaml]'],
        examples: ['lvsfleet rollout status bj-dc1'],
      },
      {
        name: 'pause',
        summary: 'hold the rollout at its stage (a failure still rolls back)',
        usage: ['rollout pause SITE'],
        examples: ['lvsfleet rollout pause bj-dc1'],
      },
      {
        name: 'resume',
        summary: 'continue a paused rollout (the bake starts again)',
        usage: ['rollout resume SITE'],
        examples: ['lvsfleet rollout resume bj-dc1'],
      },
      {
        name: 'abort',
        summary: 'stop and restore the previous revision where it was changed',
        usage: ['rollout abort SITE'],
        examples: ['lvsfleet rollout abort bj-dc1'],
      },
    ],
    examples: ['lvsfleet rollout status bj-dc1', 'lvsfleet rollout abort bj-dc1'],
    load: () => import('./commands/rollout.ts'),
  },
  {
    name: 'keys',
    summary: 'signing keys: list them, rotate to a new one',
    usage: ['keys list [-o table|json|yaml]', 'keys rotate'],
    description:
      'Admin token. rotate announces a new key signed by the current one; it signs documents once every online node pinned it, and the old key retires once every node has the new one. list shows each key state and the nodes still lacking the newest.',
    flags: [output()],
    subcommands: [
      {
        name: 'list',
        summary: 'keys, their state and the nodes still lacking one',
        usage: ['keys list [-o table|json|yaml]'],
        examples: ['lvsfleet keys list'],
      },
      { name: 'rotate', summary: 'announce a new signing key', usage: ['keys rotate'], examples: ['lvsfleet keys rotate'] },
    ],
    examples: ['lvsfleet keys list', 'lvsfleet keys rotate'],
    load: () => import('./commands/keys.ts'),
  },
  {
    name: 'drain',
    summary: 'drain a real server (weight 0, connections kept) or a director (out of VRRP) for a while',
    usage: ['drain SITE REALSERVER|DIRECTOR [--service S] [--port N] [--drain-timeout 10m] (--for 30m | --until TIME) --reason R [--wait]'],
    description:
      'An operational override (operator token), layered on the revision by the agents and ended on their own clock. Refused (409) when it would leave a service without a serving real server or a VRRP group without a director able to be MASTER, unless --force with --force-reason.',
    flags: [
      { name: 'service', value: 'S', help: 'only in this service' },
      { name: 'port', value: 'N', help: 'only the real server on this port' },
      DRAIN_TIMEOUT_FLAG,
      ...OVERRIDE_FLAGS,
    ],
    examples: [
      'lvsfleet drain bj-dc1 rs1 --for 30m --reason "kernel update" --wait',
      'lvsfleet drain bj-dc1 rs2 --for 2h --drain-timeout 20m --reason "websockets" --wait',
      'lvsfleet drain bj-dc1 dr1 --for 1h --reason "NIC swap"',
    ],
    load: () => import('./commands/overrides.ts').then((m) => ({ run: m.drain })),
  },
  {
    name: 'undrain',
    summary: 'end the drain of a real server or director now',
    usage: ['undrain SITE REALSERVER|DIRECTOR [--wait]'],
    flags: [
      { name: 'wait', help: 'wait until every node reports it ended' },
      { name: 'timeout', value: 'DURATION', help: 'how long --wait waits' },
    ],
    examples: ['lvsfleet undrain bj-dc1 rs1'],
    load: () => import('./commands/overrides.ts').then((m) => ({ run: m.undrain })),
  },
  {
    name: 'maintenance',
    summary: 'take a director out of VRRP (BACKUP once its peer took over) for a while',
    usage: ['maintenance SITE DIRECTOR (--for 1h | --until TIME) --reason R [--wait]'],
    flags: OVERRIDE_FLAGS,
    examples: ['lvsfleet maintenance bj-dc1 dr1 --for 1h --reason "firmware" --wait'],
    load: () => import('./commands/overrides.ts').then((m) => ({ run: m.maintenance })),
  },
  {
    name: 'failover',
    summary: 'make a director MASTER of an instance for a while',
    usage: ['failover SITE INSTANCE --to DIRECTOR (--for 10m | --until TIME) --reason R [--wait]'],
    flags: [{ name: 'to', value: 'DIRECTOR', help: 'the director to make MASTER' }, ...OVERRIDE_FLAGS],
    examples: ['lvsfleet failover bj-dc1 VI_1 --to dr2 --for 10m --reason "test the backup"'],
    load: () => import('./commands/overrides.ts').then((m) => ({ run: m.failover })),
  },
  {
    name: 'disable',
    summary: 'take a service out (sorry server, else quiesce) for a while',
    usage: ['disable SITE SERVICE (--for 10m | --until TIME) [--drain-timeout 10m] --reason R'],
    flags: [DRAIN_TIMEOUT_FLAG, ...OVERRIDE_FLAGS],
    examples: ['lvsfleet disable bj-dc1 web --for 10m --reason "backend migration"'],
    load: () => import('./commands/overrides.ts').then((m) => ({ run: m.disable })),
  },
  {
    name: 'overrides',
    summary: 'the active (or all) overrides of a site',
    usage: ['overrides SITE [--all] [-o table|json|yaml]'],
    flags: [{ name: 'all', help: 'also those that ended' }, output()],
    examples: ['lvsfleet overrides bj-dc1', 'lvsfleet overrides bj-dc1 --all -o json'],
    load: () => import('./commands/overrides.ts').then((m) => ({ run: m.list })),
  },
  {
    name: 'cancel',
    summary: 'end overrides now',
    usage: ['cancel SITE ID… [--wait]'],
    flags: [
      { name: 'wait', help: 'wait until every node reports them ended' },
      { name: 'timeout', value: 'DURATION', help: 'how long --wait waits' },
    ],
    examples: ['lvsfleet cancel bj-dc1 ovr_3f2a'],
    load: () => import('./commands/overrides.ts').then((m) => ({ run: m.cancel })),
  },
];

/** The command (or subcommand) `words` name, deepest first match; null when the first word is no command. */
export function findCommand(words: readonly string[]): { spec: CommandSpec; path: string[] } | null {
  let spec = COMMANDS.find((c) => c.name === words[0]);
  if (!spec) return null;
  const path = [spec.name];
  const sub = spec.subcommands?.find((s) => s.name === words[1]);
  if (sub) {
    spec = sub;
    path.push(sub.name);
  }
  return { spec, path };
}
