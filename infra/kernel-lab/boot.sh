#!/usr/bin/env bash
# Boot the lab guest under qemu (TCG unless kvm_intel/kvm_amd is loaded: the /dev/kvm of a
# nested PVM host hangs a stock kernel) and return the guest driver's exit status.
# Usage: boot.sh VMLINUX INITRD LOGFILE [lab.arg=…]
# Env: LAB_QEMU runs that program instead of qemu-system-x86_64, with the same arguments (the
#      clean-up test uses a stand-in); LAB_TIMEOUT, LAB_MEM, LAB_NO_KVM; LAB_NIC, the -nic value
#      (default none; run.sh gives the rollout scenario user networking to the host's cloud only).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
stop_grace=5 # seconds qemu gets to exit on TERM before KILL (children.sh)
source "$here/children.sh"
vmlinux=$1 initrd=$2 logfile=$3; shift 3
accel=tcg cpu=max
if [ -z "${LAB_NO_KVM:-}" ] && [ -w /dev/kvm ] && grep -qE "^kvm_(intel|amd) " /proc/modules 2>/dev/null; then accel=kvm cpu=host; fi
timeout_s=${LAB_TIMEOUT:-1800}
qemu=${LAB_QEMU:-qemu-system-x86_64}
echo "[kernel-lab] qemu accel=$accel mem=${LAB_MEM:-1536}M timeout=${timeout_s}s args: $*" >&2

# softlockup_panic=1: a guest CPU stuck in the kernel for 20 s panics the guest, and with panic=-1
# and -no-reboot qemu then exits (a result of 125 below, the panic's trace in the console log).
# Once both vCPUs locked up ~30 s into a scenario and the run waited out the whole timeout.
# The guest's process group: qemu (under timeout --foreground, so it stays in this group instead
# of timeout's own), the console filters and a watchdog. The watchdog ends the group when this
# script is gone without running its EXIT trap (SIGKILL); otherwise the trap ends it.
boot_pid=$$
guest() {
  (while pid_alive "$boot_pid"; do sleep 1; done; kill -KILL 0) </dev/null >/dev/null 2>&1 &
  timeout --foreground --kill-after=10 "$timeout_s" "$qemu" -accel "$accel" -cpu "$cpu" -m "${LAB_MEM:-1536}" -smp 2 \
    -kernel "$vmlinux" -initrd "$initrd" -append "console=ttyS0 quiet panic=-1 softlockup_panic=1 $*" \
    -nographic -no-reboot -nic "${LAB_NIC:-none}" -monitor none \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 </dev/null 2>&1 | sed -u 's/\r$//' | tee "$logfile"
  return "${PIPESTATUS[0]}"
}
start guest "$@"
wait "$!"
status=$?
if [ "$status" = 124 ] || [ "$status" = 137 ]; then echo "[kernel-lab] qemu timed out after ${timeout_s}s" >&2; exit 124; fi
# isa-debug-exit: (rc << 1) | 1; an even status means the guest never reported.
if [ $((status & 1)) = 1 ]; then exit $((status >> 1)); fi
echo "[kernel-lab] guest ended without reporting a result (qemu status $status)" >&2
exit 125
