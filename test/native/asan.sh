#!/usr/bin/env bash
# Runs test/native/sanitize-workload.mjs (a short training, a kernel sweep, every fused kernel) on
# an AddressSanitizer + UndefinedBehaviorSanitizer build of the native addon, once per GEMM
# micro-kernel family the CPU has (avx512, avx2, portable). Unlike valgrind.sh it runs the AVX-512
# code, natively. Fails if any report (an invalid read or write, a leak, undefined behaviour) has
# a frame in the addon. Not part of `npm test` (the instrumented build takes minutes):
#
#   bash test/native/asan.sh
#
# Exit codes: 0 clean, 1 a sanitizer report in the addon (or the workload failed), 2 a
# prerequisite is missing (g++ with its sanitizer runtimes, node-gyp, node-addon-api).
#   KILN_ASAN_SOURCES=dir  check the addon in dir (binding.gyp + src/) instead of backends/native,
#                          e.g. a scratch copy with a change under test
#   KILN_ASAN_DIR=dir      build in dir and keep it, so a rerun recompiles only what changed
#
# The normal build is not touched: the sources are copied into a scratch tree that also holds a
# copy of dist/, and kiln's own loader, walking up from that dist/, finds the instrumented addon
# there. dist/ is copied, not linked: node resolves an ES module's symlinks to its real path, so a
# linked dist/ would load the normal addon.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SOURCES=${KILN_ASAN_SOURCES:-backends/native}
started=$SECONDS

missing() { echo "asan: $1"; exit 2; }
[ -f "$SOURCES/binding.gyp" ] && [ -d "$SOURCES/src" ] || missing "no binding.gyp and src/ in $SOURCES"
SOURCES=$(cd "$SOURCES" && pwd)
command -v g++ >/dev/null || missing "g++ not found (the sanitizer build uses gcc's runtimes)"
[ -d node_modules/node-addon-api ] || missing "node-addon-api is not installed: npm install"
node_gyp=""
for c in "${npm_config_node_gyp:-}" \
  "$(dirname "$(command -v node)")/../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js" \
  "$(dirname "$(command -v node)")/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js" \
  "$(node -p "try { require.resolve('node-gyp/bin/node-gyp.js') } catch { '' }")"; do
  if [ -n "$c" ] && [ -f "$c" ]; then node_gyp=$c; break; fi
done
[ -n "$node_gyp" ] || missing "node-gyp not found (it ships with npm)"

if [ -n "${KILN_ASAN_DIR:-}" ]; then
  WORK=$KILN_ASAN_DIR
  mkdir -p "$WORK"
else
  WORK=$(mktemp -d)
  trap 'rm -rf "$WORK"' EXIT
fi
WORK=$(cd "$WORK" && pwd)

# A program that compiles and links but whose runtime is not installed fails here, not later.
libasan=$(g++ -print-file-name=libasan.so)
libubsan=$(g++ -print-file-name=libubsan.so)
[ -f "$libasan" ] || missing "gcc's AddressSanitizer runtime (libasan.so) is not installed"
echo 'int main() { return 0; }' > "$WORK/probe.cc"
sanitizers=address,undefined
checkers="ASan, LSan or UBSan"
preload="$libasan $libubsan"
if ! { [ -f "$libubsan" ] && g++ -fsanitize=$sanitizers "$WORK/probe.cc" -o "$WORK/probe" 2>/dev/null && "$WORK/probe"; }; then
  sanitizers=address
  checkers="ASan or LSan"
  preload=$libasan
  g++ -fsanitize=$sanitizers "$WORK/probe.cc" -o "$WORK/probe" 2>/dev/null && "$WORK/probe" ||
    missing "g++ cannot build and run a program with -fsanitize=address"
  echo "asan: UndefinedBehaviorSanitizer unavailable, running AddressSanitizer alone"
fi

npm run --silent build   # the workload runs the compiled kiln in dist/
tree=$WORK/tree
mkdir -p "$tree/backends/native"
rm -rf "$tree/dist"
cp -r dist package.json "$tree/"
ln -sfn "$ROOT/node_modules" "$tree/node_modules"
# Only files whose content changed are copied, and they get the time of the copy: with
# KILN_ASAN_DIR make then recompiles exactly those. (Keeping the sources' own times instead would
# leave an object stale when its source was edited while the previous build ran.)
sync_copy() {  # $1 → $2, files removed from $1 removed from $2
  local f
  mkdir -p "$2"
  (cd "$2" && find . -type f) | while read -r f; do [ -f "$1/$f" ] || rm -f "$2/$f"; done
  (cd "$1" && find . -type f) | while read -r f; do
    cmp -s "$1/$f" "$2/$f" || { mkdir -p "$(dirname "$2/$f")" && cp "$1/$f" "$2/$f"; }
  done
}
sync_copy "$SOURCES/src" "$tree/backends/native/src"
cmp -s "$SOURCES/binding.gyp" "$tree/backends/native/binding.gyp" || cp "$SOURCES/binding.gyp" "$tree/backends/native/"

echo "asan: building the addon with -fsanitize=$sanitizers (a few minutes) ..."
prefix=$(cd "$(dirname "$(command -v node)")/.." && pwd)
nodedir=()
[ -f "$prefix/include/node/node_api.h" ] && nodedir=(--nodedir="$prefix")  # offline: no header download
# The generated Makefile appends $CXXFLAGS and $LDFLAGS after binding.gyp's flags, so -O3 and the
# ISA pragmas stay as shipped and the sanitizers come on top.
if ! (cd "$tree/backends/native" &&
  node "$node_gyp" configure "${nodedir[@]}" &&
  CXXFLAGS="-fsanitize=$sanitizers -fno-omit-frame-pointer -g" LDFLAGS="-fsanitize=$sanitizers" \
    node "$node_gyp" build --jobs=max) > "$WORK/build.log" 2>&1; then
  echo "asan: the instrumented build failed:"
  grep -E "error|Error" "$WORK/build.log" | head -20
  exit 1
fi
addon=$tree/backends/native/build/Release/kiln_native.node
readelf -d "$addon" | grep -q 'NEEDED.*libasan' ||
  missing "node-gyp ignored CXXFLAGS/LDFLAGS: $addon is not instrumented"
echo "asan: built in $((SECONDS - started)) s"

# LSan reports every leak in the process, V8's and Node's included, and a leak suppression cannot
# keep only the addon's: it matches when any frame does, and every addon stack passes through node
# and V8 frames. So nothing is suppressed; the reports are read afterwards and only those with a
# frame in the addon count (Node's own, if any, are only counted). A non-leak ASan
# error stops the process, wherever it is. allow_user_segv_handler=0 keeps ASan's SIGSEGV handler:
# Node installs its own (for WebAssembly's bounds traps), which turns a wild access in the addon
# into a bare "Segmentation fault" with no stack. Four threads, more than a small CI machine's
# cores, so that the kernels' parallel splits run everywhere.
failed=0
summary=()
# Each frame names its module even where it has a source line, so the addon's frames are known.
frame='"    #%n %p %F %L %M"'

run() {  # $1: a label; the KILN_GEMM_ISA to ask for, or "" for the CPU's best
  local log=$WORK/logs/$1 status=0
  rm -rf "$log" && mkdir -p "$log"
  ASAN_OPTIONS="allow_user_segv_handler=0:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:malloc_context_size=40:stack_trace_format=$frame:log_path=$log/asan" \
  UBSAN_OPTIONS="print_stacktrace=1:stack_trace_format=$frame" \
  LD_PRELOAD=$preload KILN_POOL_MAX_MB=0 KILN_NUM_THREADS=4 KILN_GEMM_ISA=$2 node "$ROOT/test/native/sanitize-workload.mjs" "$tree" > "$log/out" 2> "$log/err" || status=$?
  # The workload ends by printing one JSON line: a leak outside the addon alone makes the exit
  # status non-zero, so the status says less than that line does.
  local reports addon_reports result
  # UBSan writes to stderr: it ignores log_path when ASan's runtime is loaded too.
  reports=$(cat "$log"/asan.* "$log/err" 2>/dev/null || true)
  result=$(tail -1 "$log/out")
  # Reports are blank-line-separated blocks (a leak, a UBSan error, or one error's access and
  # allocation stacks); keep those with a frame in the addon.
  addon_reports=$(printf '%s\n' "$reports" | awk -v RS= -v ORS='\n\n' '/kiln_native\.node/')
  if [ -n "$addon_reports" ]; then
    echo "asan: reports in the native addon (GEMM $1):"
    printf '%s\n' "$addon_reports"
    failed=1
  elif printf '%s\n' "$reports" | grep -qE 'ERROR: AddressSanitizer|runtime error'; then
    echo "asan: a sanitizer error outside the addon stopped the run (GEMM $1):"
    printf '%s\n' "$reports"
    failed=1
  elif [[ $result != \{* ]]; then
    echo "asan: the workload did not finish (exit $status, GEMM $1):"
    tail -30 "$log/out" "$log/err"
    failed=1
  fi
  [[ $result != \{* ]] || echo "asan: GEMM $1 (exit $status): $result"
  local leaks
  leaks=$(printf '%s\n' "$reports" | grep -cE '^(Direct|Indirect) leak' || true)
  [ -n "$addon_reports" ] || [ "$leaks" -eq 0 ] || echo "asan: $leaks leak report(s) outside the addon (Node's or V8's own), ignored"
  summary+=("$(printf '%s' "$result" | sed -n 's/.*"isa":"\([a-z0-9]*\)".*/\1/p')")
}

run best ""
# Then each family below the CPU's best: the portable and AVX2 kernels run on every machine that
# lacks the wider one, so their edges need checking here too.
case ${summary[0]} in
  avx512) run avx2 avx2; run portable portable ;;
  avx2) run portable portable ;;
esac

[ "$failed" -eq 0 ] || exit 1
echo "asan: clean: no $checkers reports with a frame in the addon; GEMM ${summary[*]}, 4 threads, exact-size buffers ($((SECONDS - started)) s)"
