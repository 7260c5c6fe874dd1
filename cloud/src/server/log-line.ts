import { displayJson } from '#shared/util/display-json.ts';

/**
 * One server log line: a JSON object on one line, in pino's shape (`level` 30 = info, `time` in ms,
 * `pid`, `msg`). Log messages carry text from nodes and clients (MQTT topics, error details);
 * JSON escapes every newline and control character in them, so no field can end the line and
 * forge another, and a reader sees where the message's own text begins and ends.
 */
export function logLine(msg: string, now: Date = new Date()): string {
  return displayJson({ level: 30, time: now.getTime(), pid: process.pid, msg }) + '\n';
}
