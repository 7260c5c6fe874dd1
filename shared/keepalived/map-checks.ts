/**
 * Checker blocks of a real_server → spec health checks (keepalived.conf(5), "checker"
 * sections). Timing: delay_loop → interval, connect_timeout → timeout, retry → retries,
 * delay_before_retry → retryDelay, warmup → warmup. The old name nb_get_retry exists only in
 * HTTP_GET and SSL_GET (keepalived's check_http.c); anywhere else keepalived ignores it.
 */
import type { HealthCheck } from '../site/health-check.ts';
import type { Stmt } from './parser.ts';
import { strip } from './map-vrrp.ts';
import { flag, int, ip, one, rest, seconds, needsBlock } from './values.ts';
import { error, lenient, walk, warn, type Cx, type Handler } from './walk.ts';

type Draft = Record<string, unknown> & { type: HealthCheck['type'] };

/** Checker block keyword → spec check type. */
export const CHECKERS: Record<string, HealthCheck['type']> = {
  TCP_CHECK: 'tcp',
  HTTP_GET: 'http',
  SSL_GET: 'https',
  SMTP_CHECK: 'smtp',
  DNS_CHECK: 'dns',
  MISC_CHECK: 'misc',
  UDP_CHECK: 'udp',
  PING_CHECK: 'ping',
};
/** Checkers keepalived has and the spec does not. */
export const UNSUPPORTED_CHECKERS = ['BFD_CHECK', 'FILE_CHECK'];

const COMMON_UNSUPPORTED = ['bind_port', 'bind_if', 'fwmark', 'log_all_failures', 'alpha', 'dynamic', 'source_ip'];

/**
 * Checker timing (keepalived.conf(5)). Inside a checker block it sets that checker; on a
 * virtual_server or real_server it is the default for every checker below (see CHECK_DEFAULTS).
 */
const TIMING: Record<string, Handler<Record<string, unknown>>> = {
  delay_loop: (st, d, cx) => {
    d.interval = seconds(st, cx);
  },
  connect_timeout: (st, d, cx) => {
    d.timeout = seconds(st, cx);
  },
  retry: (st, d, cx) => {
    d.retries = int(st, cx, 0, 100);
  },
  nb_get_retry: (st, _d, cx) => {
    lenient(cx, st.keyword, 'nb_get_retry is only known to HTTP_GET and SSL_GET: keepalived ignores it here (use retry)');
  },
  delay_before_retry: (st, d, cx) => {
    d.retryDelay = seconds(st, cx);
  },
  warmup: (st, d, cx) => {
    d.warmup = seconds(st, cx);
  },
};

const virtualhost: Handler<Record<string, unknown>> = (st, d, cx) => {
  d.virtualhost = one(st, cx);
};

/** What a virtual_server or real_server may set for the checkers inside it: timing and the HTTP virtualhost. */
export const CHECK_DEFAULTS: Record<string, Handler<Record<string, unknown>>> = { ...TIMING, virtualhost };

/** Keywords every checker block accepts: timing, and where and from where to probe. */
const common: Record<string, Handler<Draft>> = {
  ...TIMING,
  connect_port: (st, d, cx) => {
    d.port = int(st, cx, 1, 65535);
  },
  connect_ip: (st, d, cx) => {
    d.address = ip(st, cx);
  },
  bindto: (st, d, cx) => {
    d.bindTo = ip(st, cx);
  },
};

function statusCodes(st: Stmt, cx: Cx): (number | string)[] | undefined {
  if (!st.args.length) return void error(cx, st.keyword, 'status_code needs a value');
  const out: (number | string)[] = [];
  for (const a of st.args) {
    if (/^[1-5]\d\d$/.test(a.text)) out.push(Number(a.text));
    else if (/^[1-5]\d\d-[1-5]\d\d$/.test(a.text)) out.push(a.text);
    else error(cx, a, `status_code "${a.text}" is not a status code (100–599) or a range like 200-299`);
  }
  return out;
}

function urlBlock(st: Stmt, cx: Cx): Record<string, unknown> {
  const u: Record<string, unknown> = {};
  if (!needsBlock(st, cx)) return u;
  walk(st.block, st, u, cx, {
    what: 'url',
    handlers: {
      path: (x, t, c) => {
        t.path = one(x, c);
        if (t.path !== undefined && !String(t.path).startsWith('/')) error(c, x.args[0], 'url path must start with /');
      },
      digest: (x, t, c) => {
        const v = one(x, c);
        if (v && !/^[0-9a-f]{32}$/i.test(v)) error(c, x.args[0], 'digest must be an MD5 of 32 hex digits');
        else t.digest = v?.toLowerCase();
      },
      status_code: (x, t, c) => {
        t.expectStatus = statusCodes(x, c);
      },
    },
    unsupported: ['virtualhost', 'regex', 'regex_no_match', 'regex_options', 'regex_stack', 'regex_min_offset', 'regex_max_offset'],
  });
  if (u.path === undefined) error(cx, st.keyword, 'url needs a path');
  return strip(u);
}

const http: Record<string, Handler<Draft>> = {
  nb_get_retry: (st, d, cx) => {
    warn(cx, st.keyword, 'nb_get_retry is deprecated in keepalived; read as retry');
    d.retries = int(st, cx, 0, 100);
  },
  url: (st, d, cx) => {
    d.urls ??= [];
    (d.urls as unknown[]).push(urlBlock(st, cx));
  },
  virtualhost,
};

const byType: Record<HealthCheck['type'], { handlers: Record<string, Handler<Draft>>; unsupported: string[] }> = {
  tcp: { handlers: {}, unsupported: [] },
  ping: { handlers: {}, unsupported: [] },
  http: { handlers: http, unsupported: ['http_protocol', 'fast_recovery'] },
  https: {
    handlers: {
      ...http,
      enable_sni: (st, d, cx) => {
        flag(st, cx);
        d.sni = true;
      },
    },
    unsupported: ['http_protocol', 'fast_recovery'],
  },
  smtp: {
    handlers: {
      helo_name: (st, d, cx) => {
        d.helo = one(st, cx);
      },
    },
    unsupported: ['host'],
  },
  dns: {
    handlers: {
      type: (st, d, cx) => {
        const v = one(st, cx)?.toUpperCase();
        if (v && !['A', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'AAAA'].includes(v))
          error(cx, st.args[0], `DNS_CHECK type ${v} is not one of A NS CNAME SOA MX TXT AAAA`);
        else d.queryType = v;
      },
      name: (st, d, cx) => {
        d.name = one(st, cx);
      },
    },
    unsupported: [],
  },
  misc: {
    handlers: {
      misc_path: (st, d, cx) => {
        d.command = rest(st, cx);
      },
      misc_timeout: (st, d, cx) => {
        d.timeout = seconds(st, cx);
      },
      misc_dynamic: (st, d, cx) => {
        flag(st, cx);
        d.dynamic = true;
      },
      user: (st, d, cx) => {
        d.user = rest(st, cx);
      },
    },
    unsupported: [],
  },
  udp: {
    handlers: {
      payload: (st, d, cx) => {
        const v = one(st, cx);
        if (v && !/^([0-9a-f]{2})+$/i.test(v)) error(cx, st.args[0], 'payload must be hex bytes');
        else d.payload = v;
      },
      require_reply: (st, d, cx) => {
        d.requireReply = true;
        const v = st.args[0]?.text;
        if (v !== undefined) {
          if (!/^([0-9a-f]{2})+$/i.test(v)) error(cx, st.args[0], 'require_reply must be hex bytes');
          else d.expect = v;
        }
      },
    },
    unsupported: ['min_reply_length', 'max_reply_length'],
  },
};

/**
 * One checker block → a health check, or undefined when it is unusable (reported).
 * `defaults` carries the virtual_server's delay_loop (and other service-level timing).
 */
export function mapChecker(st: Stmt, cx: Cx, defaults: Partial<Draft>): HealthCheck | undefined {
  const type = CHECKERS[st.keyword.text];
  if (!needsBlock(st, cx)) return undefined;
  const d: Draft = { type, ...defaults };
  const spec = byType[type];
  walk(st.block, st, d, cx, { what: st.keyword.text, handlers: { ...common, ...spec.handlers }, unsupported: [...COMMON_UNSUPPORTED, ...spec.unsupported] });
  if (type === 'misc' && !d.command) return void error(cx, st.keyword, 'MISC_CHECK needs misc_path');
  if (type === 'http' || type === 'https') {
    const urls = (d.urls as Record<string, unknown>[] | undefined) ?? [];
    delete d.urls;
    // keepalived drops such a checker ("no urls specified - ignoring"): the real server is then unchecked.
    if (urls.length === 0) return void lenient(cx, st.keyword, `${st.keyword.text} has no url block: keepalived ignores this checker`);
    if (urls.length === 1) Object.assign(d, urls[0]);
    else d.urls = urls;
  }
  return strip(d) as HealthCheck;
}
