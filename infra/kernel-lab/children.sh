# Sourced by run.sh, boot.sh and lab-self-test.sh: whatever the script starts ends with it.
# A lab killed from outside (an outer `timeout`, Ctrl-C, a closed terminal) must not leave qemu
# running for the rest of its own 30-minute timeout, holding a core.
#
#   start CMD ARG…   runs CMD in the background in a process group of its own (the group's ID is
#                    CMD's PID, left in $!), so qemu's pipe helpers and anything else CMD starts
#                    end with it;
#   wait "$!"        waits for it; a signal to the script interrupts the wait.
#
# On any exit of the script (normal, error, INT, TERM, HUP) each group it started that still has
# a live process gets TERM, then KILL after $stop_grace seconds: 5 in boot.sh (qemu exits on
# TERM), 10 in the scripts above it, so that a boot.sh they end has time to end its own group.
# Only those groups are signalled, by the PIDs recorded here; nothing is looked up by name.
# SIGKILL cannot be trapped: boot.sh runs a watchdog beside qemu for that case.

_lab_groups=()
stop_grace=${stop_grace:-10}

start() {
  set -m # job control: the background job gets its own process group
  "$@" &
  set +m
  _lab_groups+=("$!")
}

# True when process group $1 has a process that is not a zombie (a zombie holds no CPU or memory;
# whether it is reaped soon depends on who adopted it).
group_alive() {
  local f s state _ppid pgrp
  for f in /proc/[0-9]*/stat; do
    { read -r s <"$f"; } 2>/dev/null || continue
    read -r state _ppid pgrp _ <<<"${s##*) }"
    [ "$pgrp" = "$1" ] && [ "$state" != Z ] && return 0
  done
  return 1
}

# True while process $1 exists and is not a zombie.
pid_alive() {
  local s state
  { read -r s <"/proc/$1/stat"; } 2>/dev/null || return 1
  read -r state _ <<<"${s##*) }"
  [ "$state" != Z ]
}

_end_groups() {
  local g live=() left i
  # A second signal must not cut the clean-up short: its trap's `exit` would end the script
  # before the groups are signalled. coreutils `timeout` sends its TERM twice, to the script and
  # then to the script's whole group, and the second one can land while this runs (a normal exit
  # gets here without passing through the traps below).
  trap '' HUP INT TERM
  # `jobs -p` also has a job whose PID a signal kept from reaching _lab_groups; _lab_groups also
  # has groups whose first process has ended while others (boot.sh's watchdog) have not.
  for g in $(jobs -p) "${_lab_groups[@]}"; do group_alive "$g" && live+=("$g"); done
  [ "${#live[@]}" = 0 ] && return 0
  for g in "${live[@]}"; do kill -TERM -- "-$g" 2>/dev/null; done
  for ((i = 0; i < stop_grace * 10; i++)); do
    left=()
    for g in "${live[@]}"; do group_alive "$g" && left+=("$g"); done
    [ "${#left[@]}" = 0 ] && return 0
    live=("${left[@]}")
    sleep 0.1
  done
  for g in "${live[@]}"; do kill -KILL -- "-$g" 2>/dev/null; done
  return 0
}

trap _end_groups EXIT
# Each ignores further signals before it exits, for the same reason as _end_groups.
trap "trap '' HUP INT TERM; exit 129" HUP
trap "trap '' HUP INT TERM; exit 130" INT
trap "trap '' HUP INT TERM; exit 143" TERM
