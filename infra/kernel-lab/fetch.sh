#!/usr/bin/env bash
# Fetch the guest's parts with `apt-get download` and extract them into the cache, keyed by
# package version so a warm run downloads nothing. Prints nothing but progress on stderr.
# Output (under $LAB_CACHE): debs/*.deb, kernel/<pkg>_<ver>/{vmlinux,modules/}, userland/<key>/ (merged tree).
set -euo pipefail
LAB_CACHE=${LAB_CACHE:-${LVSFLEET_CACHE:-$HOME/.cache/lvsfleet}/kernel-lab}
mkdir -p "$LAB_CACHE/debs"
log() { printf '[kernel-lab] %s\n' "$*" >&2; }

# A machine whose apt lists were never fetched offers no candidates: fetch them once.
if ! apt-cache policy busybox-static 2>/dev/null | grep -q 'Candidate: [0-9]'; then
  log "apt-get update (no package lists)"; apt-get update -qq >&2 || true
fi

# Debian's own choice of 6.1 kernel (the linux-image-amd64 metapackage), unless overridden.
kernel_pkg=${LAB_KERNEL_PKG:-$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-6\.1\./{print $2; exit}')}
if [ -z "$kernel_pkg" ]; then
  kernel_pkg=$(apt-cache pkgnames linux-image-6.1 | grep -E '^linux-image-6\.1\.[0-9]+-[0-9]+-amd64$' | sort -V | tail -1)
fi
[ -n "$kernel_pkg" ] || { log "no linux-image-6.1.*-amd64 offered by apt (run apt-get update)"; exit 1; }

# Userland: the tools the guest runs, and the libraries keepalived/ipvsadm/arping need that a
# stock Debian 12 host may lack (the guest kernel does not care which userland it runs).
# python3.11-minimal: the agent's GARP/NA helper and its IPv6 VRRP receiver run on /usr/bin/python3,
# as on a director (without it an IPv6 VRRP instance cannot open its socket).
userland_pkgs=(ipvsadm busybox-static keepalived iputils-ping arping
  libnftnl11 libnl-3-200 libnl-genl-3-200 libsnmp40 libsnmp-base libpopt0 libpci3 libsensors5 libwrap0
  libnet1 libpcap0.8 libdbus-1-3 python3.11-minimal libpython3.11-minimal)

# One apt-cache call for every candidate version (each call costs seconds on a busy machine).
declare -A candidate
while read -r p v; do candidate[$p]=$v; done < <(apt-cache policy "$kernel_pkg" "${userland_pkgs[@]}" |
  awk '/^[^ ]/{p=$1; sub(/:$/, "", p)} /Candidate:/{print p, $2}')
version_of() { echo "${candidate[$1]:-}"; }
deb_of() { # pkg ver → cached .deb path (apt-get download's file name: epoch colon as %3a)
  local f; f=$(ls "$LAB_CACHE/debs/${1}_${2//:/%3a}_"*.deb 2>/dev/null | head -1 || true); echo "$f"
}
fetch() { # pkg → .deb path, downloading only when this version is not cached
  local pkg=$1 ver f; ver=$(version_of "$pkg")
  [ -n "$ver" ] && [ "$ver" != "(none)" ] || { log "apt offers no $pkg"; return 1; }
  f=$(deb_of "$pkg" "$ver")
  if [ -z "$f" ]; then
    log "apt-get download $pkg=$ver"
    (cd "$LAB_CACHE/debs" && apt-get download -q "$pkg=$ver" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true)
    f=$(deb_of "$pkg" "$ver")
    [ -n "$f" ] || { log "download of $pkg=$ver failed"; return 1; }
  fi
  echo "$f"
}

# Kernel: uncompressed vmlinux (qemu boots it through PVH, much faster under TCG than the
# bzImage) and the modules tree.
kdeb=$(fetch "$kernel_pkg")
kdir="$LAB_CACHE/kernel/$(basename "$kdeb" .deb)"
if [ ! -f "$kdir/ok" ]; then
  log "extracting $(basename "$kdeb")"
  rm -rf "$kdir"; mkdir -p "$kdir/x"
  dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$kdir/x" --wildcards './boot/vmlinuz-*' './lib/modules/*'
  vmlinuz=$(ls "$kdir"/x/boot/vmlinuz-*)
  # The bzImage carries an xz stream; cut it out at its magic (FD 37 7A 58 5A 00).
  off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | head -1 | cut -d: -f1)
  [ -n "$off" ] || { log "no xz payload in $vmlinuz"; exit 1; }
  tail -c +"$((off + 1))" "$vmlinuz" | xz -dc > "$kdir/vmlinux" 2>/dev/null || true
  [ "$(head -c 4 "$kdir/vmlinux" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] || { log "vmlinux is not ELF"; exit 1; }
  mv "$kdir"/x/lib/modules/* "$kdir/modules"; rm -rf "$kdir/x"
  touch "$kdir/ok"
fi

debs=(); for p in "${userland_pkgs[@]}"; do debs+=("$(fetch "$p")"); done
key=$(printf '%s\n' "${debs[@]}" | xargs -n1 basename | sha256sum | cut -c1-16)
udir="$LAB_CACHE/userland/$key"
if [ ! -f "$udir/ok" ]; then
  log "extracting userland ($key)"
  rm -rf "$udir"; mkdir -p "$udir/root"
  for d in "${debs[@]}"; do dpkg-deb --fsys-tarfile "$d" | tar -x -C "$udir/root"; done
  touch "$udir/ok"
fi

printf 'KERNEL_DIR=%q\nUSERLAND_DIR=%q\n' "$kdir" "$udir/root"
