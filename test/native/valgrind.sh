#!/usr/bin/env bash
# Runs test/native/sanitize-workload.mjs (a short training, a kernel sweep, every fused kernel;
# shared with asan.sh) on the native backend under valgrind's memcheck and fails if any error
# (invalid read or write, use of uninitialised memory, a leak) has a frame in the addon.
# Not part of `npm test` (it takes minutes):   bash test/native/valgrind.sh
#
# Node runs with --jitless, so valgrind sees no self-modifying code; V8's own reports are
# ignored, only those whose stack passes through kiln_native.node count. KILN_POOL_MAX_MB=0
# turns the buffer pool off, so every buffer has its exact size and an overrun is seen.
set -euo pipefail
cd "$(dirname "$0")/../.."

command -v valgrind >/dev/null || { echo "valgrind not installed"; exit 2; }
[ -f backends/native/build/Release/kiln_native.node ] || { echo "native addon not built: node scripts/build-native.mjs"; exit 2; }
npm run --silent build   # plain node runs dist/ (faster under valgrind than tsx)

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "valgrind: running the workload on the native backend (this takes a few minutes) ..."
status=0
KILN_NUM_THREADS=2 KILN_POOL_MAX_MB=0 valgrind --tool=memcheck --leak-check=full --num-callers=40 --error-limit=no \
  --log-file="$WORK/valgrind.log" node --jitless test/native/sanitize-workload.mjs > "$WORK/out" 2>&1 || status=$?
[ "$status" -eq 0 ] || { echo "the workload failed under valgrind (exit $status)"; tail -30 "$WORK/out" "$WORK/valgrind.log"; exit 1; }
# valgrind emulates up to AVX2, so the addon runs its AVX2 (or portable) code paths here.
echo "valgrind: $(tail -1 "$WORK/out")"

# Error blocks are separated by blank lines in the log; keep those that name the addon.
addon_errors=$(awk -v RS= '/kiln_native\.node|kiln::/' "$WORK/valgrind.log")
grep -E "ERROR SUMMARY|definitely lost|indirectly lost" "$WORK/valgrind.log" | sed 's/^==[0-9]*== */valgrind (whole process): /'
if [ -n "$addon_errors" ]; then
  echo "valgrind: errors in the native addon:"
  echo "$addon_errors"
  exit 1
fi
echo "valgrind: no errors or leaks with a frame in the native addon"
