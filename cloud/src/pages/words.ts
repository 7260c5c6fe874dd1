const ISO = /\b(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?Z\b/g;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A time as a page says it: `02:14 UTC` today, `29 Nov 02:14 UTC` another day, `29 Nov 2025 02:14 UTC` another year. */
export function clock(iso: string, now: number): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  const n = new Date(now);
  const hm = iso.length >= 16 ? t.toISOString().slice(11, 16) : '';
  if (t.toISOString().slice(0, 10) === n.toISOString().slice(0, 10)) return `${hm} UTC`;
  const day = `${t.getUTCDate()} ${MONTHS[t.getUTCMonth()]}`;
  return t.getUTCFullYear() === n.getUTCFullYear() ? `${day} ${hm} UTC` : `${day} ${t.getUTCFullYear()} ${hm} UTC`;
}

/** The model's reason text with its ISO times said as clock times ("dr2 offline since 02:14 UTC"). */
export function inWords(text: string, now: number): string {
  return text.replace(ISO, (m) => clock(m, now));
}
