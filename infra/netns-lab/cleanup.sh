#!/bin/sh
# Removes leftovers of an interrupted netns lab run: kills the processes inside, then deletes the
# namespaces. Only names with the lab's per-run prefix are touched: `cleanup.sh lvfa1b2c3`
# (or `cleanup.sh --all-lab` for every "lvf<6 hex>-" namespace).
set -eu
[ $# -eq 1 ] || { echo "usage: $0 PREFIX | --all-lab" >&2; exit 2; }
if [ "$1" = "--all-lab" ]; then pattern='^lvf[0-9a-f]{6}-'; else pattern="^$1-"; fi
ip netns list | awk '{print $1}' | grep -E "$pattern" | while read -r ns; do
  for pid in $(ip netns pids "$ns"); do kill -KILL "$pid" 2>/dev/null || true; done
  ip netns del "$ns" && echo "deleted $ns"
done
