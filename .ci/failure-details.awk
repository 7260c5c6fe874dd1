# Reads vitest's output (colours stripped) and prints, for each failed test in its "Failed Tests"
# section, the FAIL line, the error, up to 8 lines of the expected/received diff, and where it was
# thrown: the stack's lines (❯) down to the first in a test file. CI's summary shows these, so a
# failure seen only in CI can be read without its whole log. -v max=N: at most N failures.
/ Failed Tests [0-9]+ / { section = 1; next }
section && /^ +Test Files / { section = 0 }
!section { next }
/^ FAIL / {
  if (shown >= max) { section = 0; next }
  shown++; inblock = 1; diff = 0; located = 0; print; next
}
inblock && /^ *❯ / {
  print "  " $0; located = 1
  if ($0 ~ /\.test\.[cm]?[jt]s:[0-9]+:[0-9]+/) inblock = 0
  next
}
inblock && located { next }
inblock && /^$/ { next }
inblock && /^(- Expected|\+ Received)$/ { next }
inblock && diff < 9 { print "  " $0; diff++ }
