#!/usr/bin/env bash
# Assemble the guest's initramfs: busybox, iproute2's ip, ipvsadm, keepalived, iputils, Node and
# the agent bundle (+ its chunks, raw-socket's addon), the lab's guest driver, the kernel modules in load
# order. Usage: build-initramfs.sh OUT.cpio.zst KERNEL_DIR USERLAND_DIR AGENT_BUNDLE|-
set -euo pipefail
out=$1 kernel_dir=$2 userland=$3 agent_bundle=$4
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
LAB_CACHE=${LAB_CACHE:-${LVSFLEET_CACHE:-$HOME/.cache/lvsfleet}/kernel-lab}
log() { printf '[kernel-lab] %s\n' "$*" >&2; }

root=$(mktemp -d "${TMPDIR:-/tmp}/kl-initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib/x86_64-linux-gnu,lib64,etc,proc,sys,dev,run,tmp,var/run,lab,lib/modules,root}
ulib="$userland/usr/lib/x86_64-linux-gnu:$userland/lib/x86_64-linux-gnu"

# Copy a binary and every library ldd resolves for it (from the extracted packages first, then
# the host). A library ldd cannot find fails the build instead of failing inside the guest.
with_libs() { # src dest-path-in-root
  local src=$1 dest=$2 line lib
  install -D -m 0755 "$src" "$root$dest"
  local deps; deps=$(LD_LIBRARY_PATH=$ulib ldd "$src" 2>/dev/null || true)
  if grep -q 'not found' <<<"$deps"; then log "missing libraries for $src:"; grep 'not found' <<<"$deps" >&2; exit 1; fi
  while read -r line; do
    lib=$(awk '/=> \//{print $3} /^\/lib64/{print $1}' <<<"$line")
    [ -n "$lib" ] || continue
    case $lib in /lib64/*) [ -e "$root$lib" ] || cp -L "$lib" "$root$lib";;
      *) [ -e "$root/lib/x86_64-linux-gnu/$(basename "$lib")" ] || cp -L "$lib" "$root/lib/x86_64-linux-gnu/";;
    esac
  done <<<"$deps"
}

# busybox applets, except those a real tool replaces (busybox sh would prefer its own applet
# over /sbin/ip, so `ip` must not be an applet at all).
install -m 0755 "$userland/bin/busybox" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list-full); do
  case ${applet##*/} in ip|ping|arping|flock|busybox|init|linuxrc) continue;; esac
  [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done

with_libs "$(command -v ip || echo /sbin/ip)" /sbin/ip
with_libs "$userland/sbin/ipvsadm" /sbin/ipvsadm
# ipvsadm-save/-restore are bash scripts that only use POSIX sh; busybox sh runs them.
for s in ipvsadm-save ipvsadm-restore; do
  sed '1s|^#!/bin/bash|#!/bin/sh|' "$userland/sbin/$s" > "$root/sbin/$s"; chmod 0755 "$root/sbin/$s"
done
with_libs "$userland/usr/sbin/keepalived" /usr/sbin/keepalived
with_libs "$userland/bin/ping" /bin/ping
with_libs "$userland/usr/sbin/arping" /usr/sbin/arping
# python3 (Debian's minimal build: the interpreter and the part of its library the agent's helpers
# import: socket, struct, sys, time) at /usr/bin/python3, where the agent looks for it.
with_libs "$userland/usr/bin/python3.11" /usr/bin/python3.11
ln -sf python3.11 "$root/usr/bin/python3"
mkdir -p "$root/usr/lib"
cp -a "$userland/usr/lib/python3.11" "$root/usr/lib/"
# util-linux flock: the agent takes its one-agent-per-node lock with it (busybox's applet lacks
# --conflict-exit-code).
with_libs "$(command -v flock)" /usr/bin/flock
# nft: the agent's hold of unsynced connections on a new MASTER (agent/src/dataplane/unsynced-hold.ts).
if command -v nft >/dev/null; then with_libs "$(command -v nft)" /usr/sbin/nft
else log "no nft on this host (apt-get install nftables): directors will reset unsynced connections at a VIP move"; fi

# Node, stripped once per binary (98 MB → ~86 MB; the initramfs is unpacked into guest RAM).
node_bin=$(readlink -f "$(command -v node)")
node_key=$(stat -c '%s-%Y' "$node_bin")
stripped="$LAB_CACHE/node-$node_key"
[ -f "$stripped" ] || { strip -o "$stripped.tmp" "$node_bin" && mv "$stripped.tmp" "$stripped"; }
with_libs "$node_bin" /usr/bin/node
cp "$stripped" "$root/usr/bin/node"

# Modules: dependencies first (e1000: the NIC of qemu user networking, the rollout scenario's way to the host's cloud), read from each .ko's .modinfo (no modules.dep in the package).
# nft_dup_ipv4/6: the copies a new MASTER sends the director that handed over (agent/src/dataplane/unsynced-hold.ts).
mods=(crc32c_generic ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_lblc ip_vs_lblcr ip_vs_dh ip_vs_sh
  ip_vs_sed ip_vs_nq ip_vs_fo ip_vs_ovf ip_vs_mh veth bridge ipip ip6_tunnel dummy e1000 nf_tables nft_ct nft_dup_ipv4 nft_dup_ipv6)
(cd "$repo" && node_modules/.bin/tsx "$here/host/module-order-cli.ts" "$kernel_dir/modules" "$root/lib/modules" "${mods[@]}") >/dev/null

# The agent bundle (its entry and the chunks beside it that it imports on demand) and its one
# native dependency (found by normal resolution from /).
if [ "$agent_bundle" != - ]; then
  cp "$agent_bundle" "$root/lvsfleet-agent.mjs"
  cp -r "$(dirname "$agent_bundle")/lvsfleet-agent-chunks" "$root/"
  rs="$repo/node_modules/raw-socket"
  mkdir -p "$root/node_modules/raw-socket/build/Release"
  cp "$rs/package.json" "$rs/index.js" "$root/node_modules/raw-socket/"
  cp "$rs/build/Release/raw.node" "$root/node_modules/raw-socket/build/Release/"
fi

# The guest side of the lab: init, the bundled driver and servers, specs, keepalived configs.
esb="$repo/node_modules/.bin/esbuild"
for entry in driver rs-server client break-agent; do
  "$esb" "$here/guest/$entry.ts" --bundle --platform=node --format=esm --target=node20 --log-level=warning \
    --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" \
    --outfile="$root/lab/$entry.mjs"
done
# The real servers (guest/rs.c) and the client's request loop (guest/loop.c) in C, used unless
# LAB_C_TRAFFIC=0: static, so they need nothing from the userland.
command -v cc >/dev/null || { log "no C compiler on this host (apt-get install gcc libc6-dev): the lab's real servers and request loop are C"; exit 1; }
cc -O2 -Wall -static -o "$root/lab/lab-rs-server" "$here/guest/rs.c"
cc -O2 -Wall -static -pthread -o "$root/lab/lab-loop" "$here/guest/loop.c"
cp "$here"/specs/* "$root/lab/"
install -m 0755 "$here/guest/init" "$root/init"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\nkeepalived_script:x:999:999::/:/bin/false\n' > "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\nkeepalived_script:x:999:\n' > "$root/etc/group"
printf '127.0.0.1 localhost\n' > "$root/etc/hosts"
printf 'hosts: files\n' > "$root/etc/nsswitch.conf"
ldconfig -r "$root" 2>/dev/null || true

(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) | zstd -q -T0 -3 -f -o "$out"
log "initramfs $(du -h "$out" | cut -f1) ($(du -sh "$root" | cut -f1) unpacked)"
