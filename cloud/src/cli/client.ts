import type { SpecIssue } from '#shared/site/issues.ts';
import { resolveConnection } from './connection.ts';
import { nodeRequest, type Requester } from './http-request.ts';
import type { CliIO } from './io.ts';

/** An API answer that was not 2xx, or a server that could not be reached (status 0). */
export class ApiCallError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: SpecIssue[] = [],
  ) {
    super(message);
    this.name = 'ApiCallError';
  }

  /** Exit codes (docs/architecture.md, "Validation and errors"): the server calling the input invalid is 2, everything else 1. */
  get exitCode(): number {
    return [400, 413, 415, 422].includes(this.status) ? 2 : 1;
  }
}

export interface ApiClient {
  baseUrl: string;
  call<T = unknown>(method: string, path: string, opts?: { body?: string; json?: unknown; contentType?: string; headers?: Record<string, string> }): Promise<T>;
}

/** A client for the lvsfleet API at the server and with the token `resolveConnection` finds. */
export function apiClient(io: Pick<CliIO, 'env' | 'globals'>, send: Requester = nodeRequest): ApiClient {
  const conn = resolveConnection(io.env, io.globals);
  const baseUrl = conn.url;
  const token = conn.token;
  return {
    baseUrl,
    async call<T>(method: string, path: string, opts: { body?: string; json?: unknown; contentType?: string; headers?: Record<string, string> } = {}) {
      const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
      if (token) headers.authorization = `Bearer ${token}`;
      let body = opts.body;
      if (opts.json !== undefined) {
        body = JSON.stringify(opts.json);
        headers['content-type'] = 'application/json';
      } else if (opts.contentType) headers['content-type'] = opts.contentType;
      let res: Awaited<ReturnType<Requester>>;
      try {
        res = await send(baseUrl + path, { method, headers, body });
      } catch (err) {
        const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
        throw new ApiCallError(0, 'unreachable', `cannot reach ${baseUrl} (${cause}); is \`lvsfleet serve\` running and LVSFLEET_URL right?`);
      }
      const text = await res.text();
      let parsed: unknown = undefined;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        /* not JSON: reported below */
      }
      if (!res.ok) {
        const e = (parsed as { error?: { code?: string; message?: string; issues?: SpecIssue[] } } | undefined)?.error;
        if (res.status === 401 && !token)
          throw new ApiCallError(
            401,
            e?.code ?? 'unauthorized',
            'no token: pass --token, set LVSFLEET_TOKEN or use a context with a token file (lvsfleet config --help); serve printed an admin token at first start',
          );
        throw new ApiCallError(res.status, e?.code ?? `http_${res.status}`, e?.message ?? `HTTP ${res.status}`, e?.issues ?? []);
      }
      if (parsed === undefined && text) throw new ApiCallError(res.status, 'bad_response', `the server answered ${path} with something that is not JSON`);
      return parsed as T;
    },
  };
}

/** Prints an API error as `path: message` lines and answers the exit code. */
export function reportApiError(name: string, err: unknown, io: Pick<CliIO, 'stderr'>, file?: string, lineOf?: (path: string) => number | undefined): number {
  if (!(err instanceof ApiCallError)) throw err;
  io.stderr(`lvsfleet ${name}: ${err.message}${err.code && err.status ? ` (${err.code})` : ''}\n`);
  // A body sent as JSON made from the file: the server's lines are that text's, the file's come from the path.
  for (const i of err.issues) io.stderr(`${formatIssueLine(lineOf ? { ...i, line: i.path ? lineOf(i.path) : undefined } : i, file)}\n`);
  return err.exitCode;
}

/** `FILE:LINE: path: message` (file and line when known). */
export function formatIssueLine(i: SpecIssue, file?: string): string {
  const where = file ? (i.line ? `${file}:${i.line}: ` : `${file}: `) : i.line ? `line ${i.line}: ` : '';
  const message = i.message.replace(/^line \d+: /, '');
  return `${where}${i.path ? `${i.path}: ` : ''}${message}`;
}
