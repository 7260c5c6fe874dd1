#!/usr/bin/env bash
# npm run test:kernel — real IPVS under qemu: fetch the parts (cached by package version), build
# the initramfs with Node and the agent bundle, boot the guest, run every scenario inside it and
# exit with the guest's result; then prove the lab can fail (lab-self-test.sh).
# Env: LVSFLEET_CACHE (default ~/.cache/lvsfleet), LAB_TIMEOUT (s, default 1800), LAB_MEM (MiB),
#      LAB_ONLY (scenario names joined by +), LAB_SELF_TEST=0 to skip the self-test, LAB_VERBOSE=1.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
export LAB_CACHE=${LAB_CACHE:-${LVSFLEET_CACHE:-$HOME/.cache/lvsfleet}/kernel-lab}
log() { printf '[kernel-lab] %s\n' "$*" >&2; }
# Every step runs through start/wait (children.sh): killed from outside, the lab ends what it started.
source "$here/children.sh"
t0=$SECONDS

for tool in qemu-system-x86_64 zstd cpio objcopy strip apt-get dpkg-deb xz; do
  command -v "$tool" >/dev/null || { log "missing $tool (apt-get install -y --no-install-recommends qemu-system-x86 zstd cpio binutils xz-utils)"; exit 1; }
done

parts=$(mktemp)
start bash "$here/fetch.sh" >"$parts"
wait "$!" || { rm -f "$parts"; log "fetching the guest's parts failed"; exit 1; }
eval "$(<"$parts")"
rm -f "$parts"

bundle=-
if [ -f "$repo/agent/build.mjs" ]; then
  build_agent() { cd "$repo" && npm run -s build:agent >&2; }
  start build_agent
  wait "$!" || { log "npm run build:agent failed"; exit 1; }
  bundle="$repo/dist/lvsfleet-agent.mjs"
  [ -f "$bundle" ] || { log "build:agent wrote no $bundle"; exit 1; }
else
  log "agent/build.mjs not there yet: agent scenarios will be PENDING"
fi

work="$LAB_CACHE/work"; mkdir -p "$work"
initrd="$work/initrd.cpio.zst"
start bash "$here/build-initramfs.sh" "$initrd" "$KERNEL_DIR" "$USERLAND_DIR" "$bundle"
wait "$!" || { log "initramfs build failed"; exit 1; }
log "parts and initramfs ready after $((SECONDS - t0)) s"

args=()
[ -n "${LAB_ONLY:-}" ] && args+=("lab.arg=--only,${LAB_ONLY}")
[ "${LAB_VERBOSE:-}" = 1 ] && args+=("lab.arg=--verbose")
start bash "$here/boot.sh" "$KERNEL_DIR/vmlinux" "$initrd" "$work/console.log" "${args[@]}"
wait "$!"
rc=$?
log "guest result $rc after $((SECONDS - t0)) s (console log: $work/console.log)"

if [ "$rc" = 0 ] && [ "${LAB_SELF_TEST:-1}" != 0 ] && [ "$bundle" != - ]; then
  start bash "$here/lab-self-test.sh" "$KERNEL_DIR/vmlinux" "$initrd" "$work/self-test.log"
  wait "$!" || rc=1
  log "self-test done after $((SECONDS - t0)) s"
fi
exit "$rc"
