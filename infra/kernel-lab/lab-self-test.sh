#!/usr/bin/env bash
# The lab must be able to fail: boot the same initramfs with the deliberately broken agent
# (guest/break-agent.ts: it never adds real servers) and expect scenario 1 to FAIL.
# Usage: lab-self-test.sh VMLINUX INITRD LOGFILE
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/children.sh"
log() { printf '[kernel-lab self-test] %s\n' "$*" >&2; }
log "booting with the broken agent; scenario 1 must fail"
start bash "$here/boot.sh" "$1" "$2" "$3" lab.arg=--break-agent lab.arg=--only,dr >/dev/null
wait "$!"
rc=$?
if [ "$rc" = 1 ] && grep -q '^FAIL 1 dr' "$3" && grep -q 'BROKEN AGENT' "$3"; then
  log "ok: the broken agent made the lab fail:"
  grep -E '^(FAIL|PASS|PENDING) ' "$3" | sed 's/^/    /' >&2
  exit 0
fi
log "NOT OK: with the broken agent the guest returned $rc; the lab cannot tell a broken agent from a working one"
grep -E '^(FAIL|PASS|PENDING) |BROKEN' "$3" | sed 's/^/    /' >&2
exit 1
