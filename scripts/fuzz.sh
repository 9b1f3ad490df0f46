#!/usr/bin/env bash
# Builds Hark's libFuzzer targets (Fuzz/, with AddressSanitizer) and runs each for a while on a
# scratch copy of its seed corpus; a crash, leak, timeout or out-of-memory leaves its input in
# $FUZZ_OUT/artifacts and fails the script.
#
#   scripts/fuzz.sh                 # every target, 60 s each (what CI runs)
#   scripts/fuzz.sh 3600            # the long run: an hour each
#   scripts/fuzz.sh 600 fuzz-decode # one target
#
# A found input belongs in Fuzz/regressions/<target>/ with a test that replays it
# (DecodingErrorTests, UploadBodyTests).
set -euo pipefail
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz-decode fuzz-requests)
root=$(cd "$(dirname "$0")/.." && pwd)
out=${FUZZ_OUT:-$root/.build-fuzz/runs}
mkdir -p "$out/artifacts"

# The fuzzer runtime is linked without its main (the targets call LLVMFuzzerRunDriver) so that
# Swift's top-level code runs first; lld links the sanitizer runtimes the Swift driver names.
(cd "$root/Fuzz" && swift build -c release --scratch-path "$root/.build-fuzz" \
    -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address \
    -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld)
bin="$root/.build-fuzz/release"

failed=0
for target in "${targets[@]}"; do
    corpus="$out/corpus-$target"
    mkdir -p "$corpus"
    cp -n "$root/Fuzz/corpus/${target#fuzz-}"/* "$corpus/"
    [ -d "$root/Fuzz/regressions/${target#fuzz-}" ] && cp -n "$root/Fuzz/regressions/${target#fuzz-}"/* "$corpus/"
    log="$out/$target.log"
    echo "== $target: ${seconds} s on $(ls "$corpus" | wc -l) inputs (log $log)"
    # Memory: a whole decoded minute plus the model stays far below 2 GB; more is a bug.
    set +e
    LSAN_OPTIONS=suppressions=$root/Fuzz/lsan.supp ASAN_OPTIONS=detect_leaks=1 "$bin/$target" "$corpus" \
        -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=20 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="$out/artifacts/$target-" >"$log" 2>&1
    rc=$?
    set -e
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    cover=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo "?")
    echo "   exit $rc, $runs executions, coverage $cover edges, corpus now $(ls "$corpus" | wc -l)"
    if [ $rc -ne 0 ]; then
        failed=1
        grep -E 'ERROR|SUMMARY|==[0-9]+==|Fatal|precondition' "$log" | head -20
        ls -1 "$out/artifacts" | sed 's/^/   artifact: /'
    fi
done
exit $failed
