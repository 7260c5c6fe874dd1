#!/usr/bin/env bash
# npm run test:kernel — real IPVS under qemu: fetch the parts (cached by package version), build
# the initramfs with Node and the agent bundle, boot the guest, run every scenario inside it and
# exit with the guest's result; then prove the lab can fail (lab-self-test.sh).
# Env: LVSFLEET_CACHE (default ~/.cache/lvsfleet), LAB_TIMEOUT (s, default 1800), LAB_MEM (MiB),
#      LAB_ONLY (scenario names joined by +), LAB_SELF_TEST=0 to skip the self-test, LAB_SELF_TEST=only
#      for the self-test alone (no scenarios: CI runs it beside suites that do not time anything), LAB_VERBOSE=1,
#      LAB_AGENT_PROF=1 (the agents, standalone and cloud mode, under --cpu-prof; their busiest functions printed at the end),
#      LAB_C_TRAFFIC=0 (the Node real servers and request loop instead of the C ones, guest/rs.c and guest/loop.c, the default).
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

# The rollout scenario needs the real cloud: `lvsfleet serve` (embedded PGlite and broker) runs here,
# on loopback ports the OS picks, and the guest reaches exactly those two through qemu user
# networking (restrict=on: nothing else) and one guestfwd each, relayed by socat. In the guest,
# 10.0.2.100:8080 is the API and 10.0.2.100:1883 the broker (guest/cloud-link.ts).
# In the default set (no LAB_ONLY) and whenever LAB_ONLY names it.
self_test=${LAB_SELF_TEST:-1}
wants_rollout() { [[ "$self_test" != only && (-z "${LAB_ONLY:-}" || "+${LAB_ONLY//,/+}+" == *+rollout+*) ]]; }
if wants_rollout && [ "$bundle" != - ]; then
  if ! command -v socat >/dev/null; then
    log "socat missing (apt-get install -y socat): the rollout scenario will be PENDING"
  else
    free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
    http_port=$(free_port) mqtt_port=$(free_port)
    cloud_dir="$work/cloud"; rm -rf "$cloud_dir"; mkdir -p "$cloud_dir"
    serve_cloud() {
      cd "$repo" && exec node bin/lvsfleet.mjs serve --host 127.0.0.1 --port "$http_port" --mqtt-port "$mqtt_port" \
        --data-dir "$cloud_dir/data" --public-mqtt-url mqtt://10.99.0.1:1883
    }
    start serve_cloud >"$cloud_dir/serve.log" 2>&1
    for _ in $(seq 1 180); do
      [ -s "$cloud_dir/data/admin-token" ] && node -e "fetch('http://127.0.0.1:$http_port/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" && break
      sleep 1
    done
    if [ -s "$cloud_dir/data/admin-token" ]; then
      log "cloud for the rollout scenario on 127.0.0.1:$http_port (broker $mqtt_port) after $((SECONDS - t0)) s; logs $cloud_dir/serve.log, socat-*.log"
      args+=("lab.arg=--cloud-token,$(head -n1 "$cloud_dir/data/admin-token")")
      # socat logs (-d: warnings too) to files here, not to its stderr: libslirp starts the command
      # with the guest's connection as stdin, stdout AND stderr, so a socat message (a reset, a
      # refused connect) goes into the guest's HTTP stream (fetch failed on 'Expected HTTP/').
      relay_log() { printf 'socat -d -lf %s STDIO TCP:127.0.0.1:%s' "$cloud_dir/socat-$1.log" "$2"; }
      export LAB_NIC="user,model=e1000,restrict=on,guestfwd=tcp:10.0.2.100:8080-cmd:$(relay_log http "$http_port"),guestfwd=tcp:10.0.2.100:1883-cmd:$(relay_log mqtt "$mqtt_port")"
    else
      log "the cloud did not start (see $cloud_dir/serve.log): the rollout scenario will be PENDING"
    fi
  fi
fi
[ "${LAB_VERBOSE:-}" = 1 ] && args+=("lab.arg=--verbose")
[ "${LAB_AGENT_PROF:-}" = 1 ] && args+=("lab.arg=--agent-prof")
[ "${LAB_C_TRAFFIC:-1}" = 1 ] && args+=("lab.arg=--c-traffic")
rc=0
if [ "$self_test" != only ]; then
  start bash "$here/boot.sh" "$KERNEL_DIR/vmlinux" "$initrd" "$work/console.log" "${args[@]}"
  wait "$!"
  rc=$?
  log "guest result $rc after $((SECONDS - t0)) s (console log: $work/console.log)"
fi

unset LAB_NIC # the self-test needs no cloud
if [ "$rc" = 0 ] && [ "$self_test" != 0 ] && [ "$bundle" != - ]; then
  start bash "$here/lab-self-test.sh" "$KERNEL_DIR/vmlinux" "$initrd" "$work/self-test.log"
  wait "$!" || rc=1
  log "self-test done after $((SECONDS - t0)) s"
fi
exit "$rc"
