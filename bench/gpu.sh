#!/usr/bin/env bash
# The GPU run of docs/gpu.md, and its dry run on a CPU machine.
#
#   bench/gpu.sh fetch-deps   CPU machine (Debian 12, apt): downloads the Debian
#                             packages a GPU machine lacks (Abseil, nlohmann-json,
#                             GoogleTest, Google Benchmark, SQLite, zlib headers,
#                             Fashion-MNIST) into .gpu-deps/, which git ignores and
#                             the device tool carries.
#   bench/gpu.sh run          GPU machine: unpacks .gpu-deps/ into a prefix (never
#                             into /), builds the tensor-side libraries
#                             (BIOFED_WITH_FEDERATION=OFF, BIOFED_WITH_CUDA=ON)
#                             against python3's PyTorch, runs the tests (CUDA
#                             tests included), the GPU benchmarks and the smoke
#                             sweep on both devices; prints one table last.
#   bench/gpu.sh tests        GPU machine: as run, without the benchmarks (a check
#                             of the code on the GPU in about a minute).
#   bench/gpu.sh --dry-run    CPU machine: every step of `run` against Debian's
#                             LibTorch, up to the first that needs CUDA; says
#                             where it stopped. CTest gpu_dry_run runs this.
#
# Output: $OUT (the device tool's folder) or results/gpu/: log.txt (everything),
# table.md (the table), gpu_bench.json, tests.txt. Environment: BIOFED_GPU_PREFIX
# (default /tmp/biofed-gpu-prefix), BIOFED_GPU_BUILD (default build-gpu, or
# build-gpu-dry for the dry run), JOBS (default nproc).
set -uo pipefail

cd "$(dirname "$0")/.."
mode="${1:-run}"
case "$mode" in
  fetch-deps|run|tests|--dry-run) ;;
  -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "gpu.sh: unknown mode '$mode' (fetch-deps, run, tests, --dry-run; --help)" >&2; exit 2 ;;
esac

deps_dir=".gpu-deps"
packages=(libabsl-dev libabsl20220623 nlohmann-json3-dev libgtest-dev libgmock-dev libbenchmark-dev
          libbenchmark1debian libsqlite3-dev libsqlite3-0 zlib1g-dev zlib1g dataset-fashion-mnist)

fetch_deps() {
  mkdir -p "$deps_dir"
  local missing=()
  for p in "${packages[@]}"; do
    compgen -G "$deps_dir/${p}_*.deb" >/dev/null || missing+=("$p")
  done
  [[ ${#missing[@]} -eq 0 ]] && { echo "gpu.sh: $deps_dir holds every package"; return 0; }
  echo "gpu.sh: downloading ${missing[*]}"
  (cd "$deps_dir" && apt-get download -q "${missing[@]}" 2>&1 | grep -v "unsandboxed") || return 1
  for p in "${missing[@]}"; do
    compgen -G "$deps_dir/${p}_*.deb" >/dev/null || { echo "gpu.sh: could not download $p" >&2; return 1; }
  done
}

if [[ "$mode" == fetch-deps ]]; then
  fetch_deps
  exit $?
fi

dry_run=false
[[ "$mode" == --dry-run ]] && dry_run=true
out="${OUT:-results/gpu}"
mkdir -p "$out"
log="$out/log.txt"
: >"$log"
prefix="${BIOFED_GPU_PREFIX:-/tmp/biofed-gpu-prefix}"
build="${BIOFED_GPU_BUILD:-$($dry_run && echo build-gpu-dry || echo build-gpu)}"
jobs="${JOBS:-$(nproc)}"
started=$SECONDS
steps_done=()

say() { echo "$*" | tee -a "$log"; }
step() { say ""; say "== [$((SECONDS - started)) s] $*"; }
# Runs a command, its output into the log; on failure shows the log's tail.
logged() {
  "$@" >>"$log" 2>&1
  local rc=$?
  if [[ $rc -ne 0 ]]; then
    say "-- failed ($rc): $*"
    tail -40 "$log"
  fi
  return $rc
}
stop() {  # stop REASON EXIT_CODE
  say ""
  say "gpu.sh: stopped after [${steps_done[*]}]: $1"
  [[ -s "$out/table.md" ]] && cat "$out/table.md"
  exit "$2"
}

step "machine"
say "host: $(uname -srm), $(nproc) cores; $(g++ --version | head -1)"
say "cmake: $(cmake --version | head -1); ninja: $(ninja --version 2>/dev/null || echo none)"
command -v nvcc >/dev/null && say "nvcc: $(nvcc --version | tail -1)"
command -v nvidia-smi >/dev/null &&
  say "gpu: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -1)"
steps_done+=(machine)

step "dependencies: Debian packages from $deps_dir into $prefix"
if $dry_run && ! compgen -G "$deps_dir/*.deb" >/dev/null; then
  fetch_deps >>"$log" 2>&1 || stop "could not download the Debian packages (bench/gpu.sh fetch-deps)" 1
fi
compgen -G "$deps_dir/*.deb" >/dev/null ||
  stop "no packages in $deps_dir: run 'bench/gpu.sh fetch-deps' on a Debian 12 machine and carry $deps_dir" 1
rm -rf "$prefix" && mkdir -p "$prefix"
for deb in "$deps_dir"/*.deb; do
  if command -v dpkg-deb >/dev/null; then
    logged dpkg-deb -x "$deb" "$prefix" || stop "cannot unpack $deb" 1
  else
    member=$(ar t "$deb" | grep '^data.tar')
    case "$member" in
      *.xz) unpack=(tar -xJ) ;;
      *.zst) unpack=(tar --zstd -x) ;;
      *.gz) unpack=(tar -xz) ;;
      *) unpack=(tar -x) ;;
    esac
    ar p "$deb" "$member" | "${unpack[@]}" -f - -C "$prefix" 2>>"$log" || stop "cannot unpack $deb" 1
  fi
done
libdir="$prefix/usr/lib/x86_64-linux-gnu"
# Only biofed's programs see the prefix's libraries (python3 keeps the system's).
with_prefix_libs() { LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$@"; }
export BIOFED_DATA_ROOT="$prefix/usr/share/datasets"
say "unpacked $(ls "$deps_dir"/*.deb | wc -l) packages; BIOFED_DATA_ROOT=$BIOFED_DATA_ROOT"
steps_done+=(dependencies)

step "LibTorch and the C++ ABI"
torch_prefix=""
torch_abi="?"
cxx_standard=17
if $dry_run; then
  say "dry run: Debian's LibTorch (its ABI flag is printed by the configure step below)"
else
  torch_info=$(python3 - <<'EOF' 2>&1
import torch
print(torch.utils.cmake_prefix_path)
print(int(torch._C._GLIBCXX_USE_CXX11_ABI))
print(torch.__version__, "CUDA", torch.version.cuda, "available:", torch.cuda.is_available(),
      torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")
EOF
  ) || stop "python3 cannot import torch: $torch_info" 1
  torch_prefix=$(sed -n 1p <<<"$torch_info")
  torch_abi=$(sed -n 2p <<<"$torch_info")
  say "PyTorch $(sed -n 3p <<<"$torch_info")"
  say "CMake prefix: $torch_prefix"
  torch_include="$(dirname "$(dirname "$torch_prefix")")/include"
  if grep -rqs "You need C++20" "$torch_include/c10/util" "$torch_include/c10/macros"; then
    cxx_standard=20
  fi
fi
absl_lib=$(ls "$libdir"/libabsl_strings.so.* 2>/dev/null | head -1)
absl_abi="?"
if [[ -n "$absl_lib" ]]; then
  # std::string in a mangled name carries "cxx11" under the new ABI.
  if [[ $(nm -D --defined-only "$absl_lib" | grep -c 'cxx11') -gt 0 ]]; then absl_abi=1; else absl_abi=0; fi
fi
say "_GLIBCXX_USE_CXX11_ABI: PyTorch $torch_abi, Debian Abseil $absl_abi; C++$cxx_standard"
if [[ "$torch_abi" != "?" && "$absl_abi" != "?" && "$torch_abi" != "$absl_abi" ]]; then
  stop "PyTorch and Debian's Abseil disagree on _GLIBCXX_USE_CXX11_ABI: std::string would not link across them" 1
fi
steps_done+=(abi)

configure() {  # configure CUDA(ON|OFF)
  rm -rf "$build"
  logged cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBIOFED_WITH_FEDERATION=OFF \
    -DBIOFED_WITH_CUDA="$1" -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_CXX_STANDARD="$cxx_standard" \
    -DCMAKE_PREFIX_PATH="${torch_prefix:+$torch_prefix;}$prefix/usr"
}
targets=(biofed_core_tests biofed_training_tests biofed_attack_tests biofed_cuda_tests)
[[ "$mode" == tests ]] || targets+=(biofed_gpu_bench biofed_training_bench biofed_attack_bench)
build_targets() { logged cmake --build "$build" -j "$jobs" --target "${targets[@]}" -- -k 0; }

cuda=ON
$dry_run && cuda=OFF
step "configure (BIOFED_WITH_FEDERATION=OFF, BIOFED_WITH_CUDA=$cuda)"
if ! configure "$cuda"; then
  [[ "$cuda" == OFF ]] && stop "configure failed" 1
  say "configure with the CUDA kernels failed; again without them (WR then runs as tensor operations)"
  cuda=OFF
  configure OFF || stop "configure failed" 1
fi
grep "biofed: LibTorch" "$log" | tail -1
steps_done+=(configure)

step "build: ${targets[*]}"
if ! build_targets; then
  [[ "$cuda" == OFF ]] && stop "build failed" 1
  say "build with the CUDA kernels failed; again without them"
  cuda=OFF
  configure OFF && build_targets || stop "build failed" 1
fi
say "built in $build (BIOFED_WITH_CUDA=$cuda)"
steps_done+=(build)

if $dry_run && command -v nvcc >/dev/null; then
  step "nvcc: the CUDA kernels compile (a CUDA LibTorch is needed to link them)"
  logged nvcc -std=c++17 -arch=sm_90 -I. -c client/rejuvenation_kernels.cu -o "$build/rejuvenation_kernels.o" ||
    stop "nvcc cannot compile client/rejuvenation_kernels.cu" 1
  steps_done+=(nvcc)
fi

# A test binary that died (a signal) loses its buffered output: run it again
# line-buffered to name the test that dies, with a backtrace where a
# debugger is installed.
find_crash() {
  local binary="$build/bin/$1" crashed debugger
  crashed=$(with_prefix_libs stdbuf -oL "$binary" 2>&1 | tee -a "$log" | grep '^\[ RUN' | tail -1 |
            awk '{print $NF}')
  [[ -z "$crashed" ]] && return
  say "$1: $crashed dies"
  echo "  dies: $crashed" >>"$out/tests.txt"
  debugger=$(command -v gdb || command -v cuda-gdb) || return
  say "backtrace ($debugger):"
  with_prefix_libs "$debugger" -batch -ex run -ex bt --args "$binary" --gtest_filter="$crashed" 2>&1 |
    grep -E '^#[0-9]+' | head -25 | tee -a "$out/tests.txt" | tee -a "$log"
}

step "tests"
: >"$out/tests.txt"
tests_failed=0
for t in biofed_core_tests biofed_training_tests biofed_attack_tests biofed_cuda_tests; do
  with_prefix_libs "$build/bin/$t" --gtest_brief=1 >"$build/$t.out" 2>&1
  rc=$?
  cat "$build/$t.out" >>"$log"
  summary="$t: exit $rc; $(grep -E '^\[  (PASSED|FAILED|SKIPPED) ' "$build/$t.out" | grep -v ', listed below' |
    sed 's/^\[ *\([A-Z]*\) *\] */\1 /' | tr '\n' ';')"
  say "$summary"
  echo "$summary" >>"$out/tests.txt"
  grep -E '^\[  (FAILED|SKIPPED) +\] [A-Za-z]' "$build/$t.out" | sort -u | tee -a "$out/tests.txt" | tee -a "$log"
  [[ $rc -ne 0 ]] && tests_failed=1
  [[ $rc -ge 128 ]] && find_crash "$t"
done
if grep -q "no CUDA device" "$build/biofed_cuda_tests.out"; then
  say "CUDA tests skipped: $(grep -m1 -o 'no CUDA device[^"]*' "$build/biofed_cuda_tests.out")"
fi
steps_done+=(tests)

if $dry_run; then
  [[ $tests_failed -ne 0 ]] && stop "a test failed" 1
  say ""
  say "dry run: stopped before the GPU benchmarks, the first step that needs CUDA."
  say "Done in $((SECONDS - started)) s: ${steps_done[*]}."
  exit 0
fi

if [[ "$mode" == tests ]]; then
  say ""
  say "tests mode: stopped before the GPU benchmarks."
  say "Done in $((SECONDS - started)) s: ${steps_done[*]}."
  exit $tests_failed
fi

step "GPU benchmarks"
export BIOFED_BENCH_THREADS="${BIOFED_BENCH_THREADS:-4}"
with_prefix_libs "$build/bin/biofed_gpu_bench" --benchmark_out="$out/gpu_bench.json" --benchmark_out_format=json \
  2>&1 | tee -a "$log"
steps_done+=(benchmarks)

# The smoke sweep on each device: cells per hour, and each cell's PSNR on
# both (GPU numbers differ from the CPU's in the last bits, and an attack
# can amplify that).
sweep_on_devices() {
  logged cmake --build "$build" -j "$jobs" --target biofed || { say "biofed did not build: no sweep"; return 1; }
  local device
  for device in cuda cpu; do
    if ! with_prefix_libs "$build/bin/biofed" sweep --preset smoke --device "$device" --jobs 4 \
        --out "$out/sweep-$device" >"$out/sweep-$device.txt" 2>&1; then
      say "smoke sweep on $device failed: $(tail -3 "$out/sweep-$device.txt")"
      return 1
    fi
    say "smoke sweep on $device: $(grep -m1 'all models:' "$out/sweep-$device.txt")"
  done
  python3 - "$out" >"$out/sweep.md" <<'PY'
import sqlite3, sys
out = sys.argv[1]
rows = {d: dict(sqlite3.connect(f"{out}/sweep-{d}/study.db").execute("select key, psnr from sweep_cells"))
        for d in ("cuda", "cpu")}
print("| smoke cell | PSNR cuda | PSNR cpu |\n|---|---|---|")
for key in sorted(rows["cpu"]):
    print(f"| {key} | {rows['cuda'].get(key, float('nan')):.2f} | {rows['cpu'][key]:.2f} |")
PY
}
step "smoke sweep on the GPU and on the CPU"
rm -f "$out/sweep.md"
sweep_on_devices && steps_done+=(sweep)

step "table"
python3 bench/gpu_table.py "$out/gpu_bench.json" "$out/tests.txt" "$cuda" >"$out/table.md" 2>>"$log" ||
  say "gpu_table.py failed (see log)"
if [[ -s "$out/sweep.md" ]]; then
  { echo; grep -h "all models:" "$out"/sweep-*.txt; echo; cat "$out/sweep.md"; } >>"$out/table.md"
fi
say "done in $((SECONDS - started)) s"
cat "$out/table.md"
[[ $tests_failed -ne 0 ]] && exit 1
exit 0
