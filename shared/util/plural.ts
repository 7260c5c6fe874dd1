/** `1 node`, `2 nodes`, `0 VRRP instances`: a count with its noun in the right number (regular English plurals, or the one given). */
export function plural(n: number, singular: string, pluralForm = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : pluralForm}`;
}
