import { displayJson } from '#shared/util/display-json.ts';

/**
 * One server log line: a JSON object on one line, in pino's shape (`level` 30 = info, `time` in ms,
 * `pid`, `msg`), so pino's tools (pino-pretty, log shippers' pino parsers) read it. Log messages
 * carry text from nodes and clients (MQTT topics, error details); JSON escapes every newline and
 * control character in them, so no field can end the line and forge another, and a reader sees
 * where the message's own text begins and ends.
 *
 * Written here rather than through pino itself: the server logs one kind of line (a message at
 * info), which is all this function is; pino's serializer escapes only what JSON must (C0, `"`,
 * `\`) and would pass DEL and the C1 controls (`\u009b` is a CSI to many terminals) raw to whoever
 * tails the log, which displayJson escapes; and it would add a dependency tree to the server and
 * the CLI bundle for no property this line lacks.
 */
export function logLine(msg: string, now: Date = new Date()): string {
  return displayJson({ level: 30, time: now.getTime(), pid: process.pid, msg }) + '\n';
}
