import * as z from 'zod';

/** Names of sites, nodes, instances and services: DNS-label-like, safe in MQTT topics and URLs. */
export const Name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, {
  message: 'expected a name of letters, digits, "_", "." and "-" (at most 63, starting with a letter or digit)',
});

/** A Linux interface name (IFNAMSIZ 16 with the NUL: at most 15 bytes, no whitespace, "/" or ":"). */
export const InterfaceName = z.string().regex(/^[^\s/:]{1,15}$/, { message: 'expected an interface name of 1–15 characters without spaces, "/" or ":"' });

/**
 * Site names: a Name without ".", because a nodeId is `${site}.${node}` (MQTT username and topic
 * level) and must split back unambiguously at its first ".".
 */
export const SiteName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, {
  message: 'expected a site name of letters, digits, "_" and "-" (at most 63, starting with a letter or digit; no ".")',
});
