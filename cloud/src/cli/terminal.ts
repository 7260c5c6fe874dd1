import type { CliIO } from './io.ts';

// Kept apart from output.ts (tables, YAML) so every command can filter its output without loading a YAML library.

// What a terminal would act on rather than print: CSI (ESC [ … final byte), string commands
// (OSC, DCS, SOS, PM, APC: ESC ] P X ^ _ … up to BEL, ST or the end of the line), any other
// two-byte ESC sequence, and the same in their 8-bit C1 forms (CSI 0x9b, OSC 0x9d, …).
const ESCAPE_SEQUENCE =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /\x1b\[[0-?]*[ -/]*[@-~]?|\x9b[0-?]*[ -/]*[@-~]?|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x9c\n]*?(?:\x07|\x9c|\x1b\\|(?=\n)|$)|\x1b[ -~]?/g;
// Every other C0 control but newline and tab, DEL and the C1 controls.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/**
 * Text for an operator's terminal: node-controlled strings (VRRP states, error details, event
 * text) reach the CLI through the API, so escape sequences and control characters are removed
 * before anything is printed (clearing the screen, setting the title, faking colours or lines).
 */
export function forTerminal(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, '').replace(CONTROL, '');
}

/** `value` with every string in it passed through forTerminal, so the CLI may add its own colours to what it prints. */
export function forTerminalDeep<T>(value: T): T {
  if (typeof value === 'string') return forTerminal(value) as T;
  if (Array.isArray(value)) return value.map(forTerminalDeep) as T;
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [forTerminal(k), forTerminalDeep(v)])) as T;
  return value;
}

/**
 * The same CliIO, with everything written to stdout and stderr passed through forTerminal;
 * `stdoutStyled` is the unfiltered stdout, for text made only of forTerminalDeep'd data and the CLI's own colour codes.
 */
export function terminalIO(io: CliIO): CliIO {
  return { ...io, stdout: (t) => io.stdout(forTerminal(t)), stderr: (t) => io.stderr(forTerminal(t)), stdoutStyled: io.stdout };
}
