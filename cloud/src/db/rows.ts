/** The rows of a raw statement's answer (`db.execute`): postgres.js answers the array, PGlite an object holding `rows`. */
export function rowsOf<T>(answer: unknown): T[] {
  return Array.isArray(answer) ? (answer as T[]) : ((answer as { rows?: T[] }).rows ?? []);
}
