/**
 * Director nodes of an import: one per file, named from router_id (or the file name when
 * router_id is missing, clashes or is not a valid name) and addressed from unicast_src_ip /
 * mcast_src_ip or the caller's `--address NAME=IP`.
 */
import { Name } from '../site/names.ts';
import type { Node } from '../site/site.ts';
import { canonicalIp, ipFamily } from '../util/ip.ts';
import type { Diagnostic } from './diagnostics.ts';
import type { FileImport } from './model.ts';

function baseName(file: string): string {
  const parts = file.split('/').filter(Boolean);
  const base = (parts.at(-1) ?? 'director').replace(/\.conf$/, '');
  const parent = parts.at(-2);
  return parent && base === 'keepalived' ? parent : base;
}

function sanitize(s: string): string {
  return s
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 63);
}

/** Picks a unique, valid node name for each file. */
export function nodeNames(files: FileImport[], diags: Diagnostic[]): string[] {
  const used = new Set<string>();
  const ridCount = new Map<string, number>();
  for (const f of files) if (f.routerId) ridCount.set(f.routerId.text, (ridCount.get(f.routerId.text) ?? 0) + 1);
  return files.map((f, i) => {
    const shared = f.routerId !== undefined && ridCount.get(f.routerId.text)! > 1;
    // A router_id copied to every director (the seeds' LVS_DEVEL) names none of them.
    const rid = shared ? undefined : f.routerId?.text;
    const candidates = [rid, baseName(f.file), sanitize(baseName(f.file)), `director${i + 1}`].filter((c): c is string => !!c);
    const name = candidates.find((c) => Name.safeParse(c).success && !used.has(c))!;
    if (f.routerId && name !== f.routerId.text) {
      const why = shared ? 'is used by another file too' : 'is not a valid node name';
      diags.push({
        severity: 'warning',
        file: f.routerId.file,
        line: f.routerId.line,
        message: `router_id ${f.routerId.text} ${why}; this director is named "${name}" after its file`,
      });
    }
    used.add(name);
    return name;
  });
}

/**
 * The address of each director. A spec node needs one and a keepalived.conf without
 * unicast_src_ip does not say it, so the caller must pass it: an error names the flag.
 */
export function nodeAddresses(files: FileImport[], names: string[], given: Record<string, string>, diags: Diagnostic[]): (string | undefined)[] {
  return files.map((f, i) => {
    const name = names[i];
    if (given[name] !== undefined) {
      if (ipFamily(given[name]) === null) {
        diags.push({ severity: 'error', file: f.file, line: 0, message: `--address ${name}=${given[name]}: not an IPv4 or IPv6 address` });
        return undefined;
      }
      return canonicalIp(given[name]);
    }
    // The first IPv4 source is the node's address; IPv6 ones are its address6 (sourcesOf6).
    const all = [...new Set(f.instances.map((x) => x.unicastSrcIp).filter((x): x is string => !!x))];
    const v4 = all.filter((a) => ipFamily(a) === 4);
    const srcs = v4.length ? v4 : all;
    if (srcs.length > 1)
      diags.push({
        severity: 'warning',
        file: f.file,
        line: 0,
        message: `instances use different source addresses (${srcs.join(', ')}); director ${name} gets ${srcs[0]}`,
      });
    if (srcs.length) return srcs[0];
    diags.push({
      severity: 'error',
      file: f.file,
      line: 0,
      message: `cannot tell the address of director "${name}" (no unicast_src_ip or mcast_src_ip): pass --address ${name}=IP`,
    });
    return undefined;
  });
}

/**
 * The director node of each file; its interface is the one of its first vrrp_instance. A node
 * whose address is IPv4 gets the first IPv6 unicast_src_ip / mcast_src_ip of its IPv6 instances
 * as `address6` (dual stack).
 */
export function directorNodes(files: FileImport[], names: string[], addresses: (string | undefined)[]): Node[] {
  return files.map((f, i) => {
    const iface = f.instances.find((x) => x.interface)?.interface;
    const address = addresses[i] ?? '0.0.0.0';
    const v6 = ipFamily(address) === 4 ? f.instances.map((x) => x.unicastSrcIp).find((a) => a !== undefined && ipFamily(a) === 6) : undefined;
    return { name: names[i], role: 'director', address, ...(v6 ? { address6: v6 } : {}), ...(iface ? { interface: iface } : {}) };
  });
}
