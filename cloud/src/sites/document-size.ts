import type { SpecIssue } from '#shared/site/issues.ts';
import type { Site } from '#shared/site/site.ts';
import { MAX_CONFIG_BYTES, MAX_DOCUMENT_BYTES } from '#shared/wire/desired.ts';

/** A config of this many characters of JSON may be over `max` bytes (a character is at most 3). */
export const mayExceed = (chars: number, max = MAX_CONFIG_BYTES): boolean => chars * 3 > max;

/**
 * The spec's issues for nodes whose config is too large for a document an agent takes
 * (MAX_DOCUMENT_BYTES): a director's claims list every real server of its services. `sizes` are
 * configs' JSON sizes in characters (a character is at most 3 bytes, so only configs over a third
 * of the limit are measured in bytes, and only those need be given); `bytesOf` gives a config's
 * size as UTF-8 JSON for that.
 */
export function oversizedConfigs(
  site: Site,
  sizes: Iterable<[node: string, chars: number]>,
  bytesOf: (node: string) => number,
  max = MAX_CONFIG_BYTES,
): SpecIssue[] {
  const issues: SpecIssue[] = [];
  for (const [node, chars] of sizes) {
    if (!mayExceed(chars, max)) continue;
    const bytes = bytesOf(node);
    if (bytes <= max) continue;
    const at = site.spec.nodes.findIndex((n) => n.name === node);
    issues.push({
      path: `spec.nodes[${at}]`,
      message: `node ${node}'s compiled config is ${bytes} bytes, over the ${max} that fit in a document an agent takes (${MAX_DOCUMENT_BYTES} bytes): split its services over more directors or sites`,
    });
  }
  return issues;
}
