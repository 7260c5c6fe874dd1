/**
 * keepalived's status_code: a code (`200`) or an inclusive range (`"200-299"`). With several
 * entries, any match is enough.
 */
export function statusMatches(status: number, expect: readonly (number | string)[]): boolean {
  return expect.some((e) => {
    if (typeof e === 'number') return status === e;
    const m = /^(\d{3})-(\d{3})$/.exec(e);
    if (m) return status >= Number(m[1]) && status <= Number(m[2]);
    return status === Number(e);
  });
}
