#!/usr/bin/env bash
# Boot the lab guest under qemu (TCG unless kvm_intel/kvm_amd is loaded: the /dev/kvm of a
# nested PVM host hangs a stock kernel) and return the guest driver's exit status.
# Usage: boot.sh VMLINUX INITRD LOGFILE [lab.arg=…]
set -uo pipefail
vmlinux=$1 initrd=$2 logfile=$3; shift 3
accel=tcg cpu=max
if [ -z "${LAB_NO_KVM:-}" ] && [ -w /dev/kvm ] && grep -qE "^kvm_(intel|amd) " /proc/modules 2>/dev/null; then accel=kvm cpu=host; fi
timeout_s=${LAB_TIMEOUT:-1800}
echo "[kernel-lab] qemu accel=$accel mem=${LAB_MEM:-1536}M timeout=${timeout_s}s args: $*" >&2
timeout --kill-after=10 "$timeout_s" qemu-system-x86_64 -accel "$accel" -cpu "$cpu" -m "${LAB_MEM:-1536}" -smp 2 \
  -kernel "$vmlinux" -initrd "$initrd" -append "console=ttyS0 quiet panic=-1 $*" \
  -nographic -no-reboot -nic none -monitor none \
  -device isa-debug-exit,iobase=0xf4,iosize=0x04 </dev/null 2>&1 | sed -u 's/\r$//' | tee "$logfile"
status=${PIPESTATUS[0]}
if [ "$status" = 124 ] || [ "$status" = 137 ]; then echo "[kernel-lab] qemu timed out after ${timeout_s}s" >&2; exit 124; fi
# isa-debug-exit: (rc << 1) | 1; an even status means the guest never reported.
if [ $((status & 1)) = 1 ]; then exit $((status >> 1)); fi
echo "[kernel-lab] guest ended without reporting a result (qemu status $status)" >&2
exit 125
