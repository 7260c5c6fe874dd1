# Reads vitest's output (colours stripped) and prints, for each failed test in its "Failed Tests"
# section, the FAIL line, the error, up to 8 lines of the expected/received diff, and where it was
# thrown: CI's summary shows these, so a failure seen only in CI can be read without its whole log.
# -v max=N: at most N failures.
/ Failed Tests [0-9]+ / { section = 1; next }
section && /^ +Test Files / { section = 0 }
!section { next }
/^ FAIL / {
  if (shown >= max) { section = 0; next }
  shown++; inblock = 1; diff = 0; printf "%s\n", $0; next
}
inblock && /^ *❯ .*:[0-9]+:[0-9]+/ { print "  " $0; inblock = 0; next }
inblock && /^$/ { next }
inblock && /^(- Expected|\+ Received)$/ { next }
inblock && diff < 9 { print "  " $0; diff++ }
