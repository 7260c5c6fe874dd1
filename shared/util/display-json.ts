/**
 * JSON.stringify for text a person reads (a terminal, a log viewer): JSON already escapes the C0
 * controls, and this escapes DEL and the C1 controls too (`\u009b` is a CSI to many terminals).
 * The result parses back to the same value.
 */
export function displayJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(/[\x7f-\x9f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
