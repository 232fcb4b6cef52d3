#!/usr/bin/env bash
# The GPU check, run ON a bare NVIDIA GPU server from the repo root, with the .gpu-check/ folder
# that `pnpm gpu-check:pack` built carried along (it needs bash, xz, tar, dpkg, coreutils and a
# python3 with torch; no Node.js, no package registry):
#
#   bash scripts/gpu-check/run.sh                    the check (<= 5 minutes)
#   bash scripts/gpu-check/run.sh --part gpu-config  configs/paper/sllm-vs-token-gpu.yaml (<= 5 minutes)
#   bash scripts/gpu-check/run.sh --part all         both, one after the other (<= 10 minutes)
#   bash scripts/gpu-check/run.sh --quick            tiny sizes and few steps (a rehearsal on a software adapter)
#
# In order, each step with its own time limit, a failed step logged and the next one run:
# adapter, conformance on webgpu (once per matmul kernel), train-step tiny and large (webgpu and
# its variants + PyTorch CUDA fp32 eager and TF32, with the ratios), the generation benchmark on
# webgpu, the quickstart models' first 20 training losses on webgpu against native's (exp
# agree), a shortened quickstart on webgpu (at least 90 s of the check's 320 are left for it);
# then, with --part gpu-config or all, the d 512 SLLM-vs-token-LM config on webgpu; last, on
# what time is left, webgpu-gemm (every matmul kernel on the large step's GEMM shapes beside
# PyTorch). The exp steps train with the fastest matmul kernel of the largest train step timed
# that passed the conformance suite (fastest_matmul).
# Everything is teed into $OUT/gpu-check.log; the bench JSON lines go to $OUT/*.json.
# The exit status is the number of failed steps.
set -u -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
pack="$root/.gpu-check"
out="${OUT:-/tmp/sentencelab-gpu-check-out}"
work="${GPU_CHECK_WORK:-/tmp/sentencelab-gpu-check}"
quick=0
part=check
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --part)
      part=${2:-}
      shift
      case "$part" in
        check | gpu-config | all) ;;
        *) echo "run.sh: --part must be check, gpu-config or all, got \"$part\"" >&2; exit 2 ;;
      esac
      ;;
    *) echo "run.sh: unknown option \"$1\" (options: --quick, --part check|gpu-config|all)" >&2; exit 2 ;;
  esac
  shift
done

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
secs() { printf '%d.%01d' $(( $1 / 1000 )) $(( $1 % 1000 / 100 )); }

start_ms=$(now_ms)
# Each part must end within about 5 minutes on the server (both together within one 600 s device
# call); a part's last step gets what is left of it.
check_s=320 config_s=260
if [ "$quick" = 1 ]; then check_s=3600 config_s=3600; fi
case "$part" in
  all) budget_s=$(( check_s + config_s )) ;;
  check) budget_s=$check_s ;;
  gpu-config) budget_s=$config_s ;;
esac
# Seconds from the start until which the check part may run (its quickstart gets what is left,
# and the steps before it leave the quickstart at least quickstart_s of it).
check_end_s=$check_s
quickstart_s=90
failures=0
summary=()
# The matmul kernel the exp steps train with (the fastest one timed; see fastest_matmul).
matmul=""

# step <name> <limit s> <json file or -> <command...>: runs with a time limit (cut to what is left
# of the budget, or of $step_end_s seconds from the start when set), records the outcome.
step_end_s=
step() {
  local name=$1 limit=$2 json=$3; shift 3
  local left=$(( ${step_end_s:-$budget_s} - ($(now_ms) - start_ms) / 1000 ))
  if [ "$limit" -gt "$left" ]; then limit=$left; fi
  if [ "$limit" -lt 5 ]; then
    echo "=== $name: SKIPPED (the ${budget_s} s budget is spent)"
    summary+=("$(printf '%-22s %-26s %8s' "$name" 'skipped (no time left)' '-')")
    failures=$(( failures + 1 ))
    return
  fi
  echo
  echo "=== $name (limit ${limit} s): $*"
  local t0 rc dt status tmp="$work/step.out"
  t0=$(now_ms)
  timeout -k 5 "$limit" "$@" | tee "$tmp"
  rc=${PIPESTATUS[0]}
  dt=$(( $(now_ms) - t0 ))
  if [ "$json" != - ]; then
    local last
    last=$(tail -n 1 "$tmp")
    if [ "${last:0:1}" = '{' ]; then echo "$last" > "$out/$json"; fi
  fi
  case $rc in
    0) status=ok ;;
    124 | 137) status="TIMED OUT (limit ${limit} s)" ;;
    *) status="FAILED (exit $rc)" ;;
  esac
  [ "$rc" = 0 ] || failures=$(( failures + 1 ))
  echo "=== $name: $status after $(secs "$dt") s"
  summary+=("$(printf '%-22s %-26s %8s' "$name" "$status" "$(secs "$dt") s")")
}

# Unpacks node, the run-time packages and (where the image lacks them) the Vulkan loader .debs.
unpack() {
  rm -rf "$work" && mkdir -p "$work/bin" "$work/bench-results"
  xz -T0 -dc "$pack/node.xz" > "$work/bin/node" && chmod +x "$work/bin/node" || return 1
  tar -C "$work" -xJf "$pack/modules.tar.xz" || return 1
  cp -r "$pack/bundle" "$work/bundle" || return 1
  # The exp app hashes its own and its packages' sources into every stage's cache key, found two
  # folders above its module (<work> for <work>/bundle/lib/*.mjs) and in node_modules above that:
  # give it the workspace layout it looks for (<work>/package.json + src, node_modules/@sentencelab/*).
  ln -s "$root/apps/exp/package.json" "$work/package.json"
  ln -s "$root/apps/exp/src" "$work/src"
  mkdir -p "$work/node_modules/@sentencelab"
  local d name
  for d in "$root"/packages/*/ "$root"/apps/*/; do
    name=$(sed -n 's/^  "name": "@sentencelab\/\([^"]*\)".*/\1/p' "$d/package.json" 2>/dev/null)
    [ -n "$name" ] && ln -s "${d%/}" "$work/node_modules/@sentencelab/$name"
  done
  local f pkg unpacked=()
  for f in "$pack"/debs/*.deb; do
    pkg=$(basename "$f"); pkg=${pkg%%_*}
    if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then continue; fi
    dpkg -x "$f" / || return 1
    unpacked+=("$pkg")
  done
  if [ ${#unpacked[@]} -gt 0 ]; then
    PATH="$PATH:/usr/sbin:/sbin" ldconfig
    echo "unpacked ${unpacked[*]}"
  else
    echo "Vulkan loader and GL dispatch libraries already installed"
  fi
}

main() {
  echo "sentencelab GPU check$([ "$quick" = 1 ] && echo ' (--quick)'), $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(uname -m), repo $root"
  [ -s "$pack/node.xz" ] && [ -s "$pack/modules.tar.xz" ] || {
    echo "run.sh: $pack is missing or incomplete: run pnpm gpu-check:pack first and carry .gpu-check"
    return 1
  }
  local t0; t0=$(now_ms)
  unpack || { echo "run.sh: unpacking $pack into $work failed"; return 1; }
  echo "unpacked into $work in $(secs $(( $(now_ms) - t0 ))) s"
  summary+=("$(printf '%-22s %-26s %8s' unpack ok "$(secs $(( $(now_ms) - t0 ))) s")")

  local icd
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json; do
    if [ -f "$icd" ]; then export VK_DRIVER_FILES="$icd"; break; fi
  done
  echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-(unset: the Vulkan loader searches its default folders)}"
  if [ -z "${VK_DRIVER_FILES:-}" ] && command -v nvidia-smi > /dev/null; then
    echo "warning: no NVIDIA Vulkan ICD (nvidia_icd.json) found; containers need NVIDIA_DRIVER_CAPABILITIES to include graphics"
  fi
  export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
  export SENTENCELAB_BENCH_DIR="$work/bench-results"
  export PATH="$work/bin:$PATH"
  local node="$work/bin/node" js="$work/bundle/lib/gpu-check.mjs"
  echo "node $("$node" --version) at $node; $(getconf GNU_LIBC_VERSION 2> /dev/null || echo 'glibc version unknown') (dawn.node and the .debs need glibc >= 2.34)"
  if command -v nvidia-smi > /dev/null; then
    nvidia-smi -L
    nvidia-smi --query-gpu=driver_version,memory.total --format=csv,noheader | sed 's/^/driver, memory: /'
  else
    echo "nvidia-smi: not found"
  fi

  local py="" p
  for p in python3 /usr/bin/python3 /opt/conda/bin/python3 /usr/local/bin/python3 python; do
    if command -v "$p" > /dev/null && "$p" -c 'import torch' 2> /dev/null; then py=$(command -v "$p"); break; fi
  done
  if [ -n "$py" ]; then
    echo "python with torch: $py ($("$py" -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'))"
  else
    echo "python with torch: none found (the train-step ratios will be missing)"
  fi
  local torch_args=(--no-torch)
  [ -n "$py" ] && torch_args=(--python "$py" --torch-device auto)

  # A software adapter (the --quick rehearsal) is 100-1000x slower: its limits are looser.
  local slow=1; [ "$quick" = 1 ] && slow=8
  step adapter $(( 20 * slow )) - "$node" "$js" adapter
  [ "$part" = gpu-config ] || check "$slow"
  [ "$part" = check ] || gpu_config
  gemm

  echo
  echo "=== summary ($(secs $(( $(now_ms) - start_ms ))) s in all; outputs in $out)"
  printf '%s\n' "${summary[@]}"
  return "$failures"
}

# overrides <name>: the exp overrides in overrides/<name>.txt, one per line (# comments), which
# apps/exp's gpu-check-overrides test dry-runs against their configs.
overrides() {
  grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$here/overrides/$1.txt"
}

# The check (main's node, js and torch_args): conformance, train-step tiny and large, generation,
# a shortened quickstart.
check() {
  local slow=$1
  step_end_s=$(( check_end_s - quickstart_s ))
  step conformance $(( 40 * slow )) conformance.json "$node" "$js" conformance webgpu --matmul all
  local runs="$work/runs" overrides=()
  # Each train-step also times webgpu with fewer, larger command-buffer submits (tfjs submits every
  # 15 dispatches) and with this repo's matmuls instead of tfjs's (packages/tensor/src/webgpu/matmul.ts).
  local variants=(--webgpu-flags "WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=128;$(matmul_flags)")
  if [ "$quick" = 1 ]; then
    step train-step-tiny 600 train-step-tiny.json "$node" "$js" bench train-step --backends webgpu --size tiny --steps 1 "${variants[@]}" "${torch_args[@]}"
    echo "=== train-step-large: skipped with --quick"
    step generation 600 generation.json "$node" "$js" bench generation --backend webgpu --sentences 2 --length 8 --prompts 1
    mapfile -t overrides < <(overrides quickstart-quick)
  else
    step train-step-tiny 60 train-step-tiny.json "$node" "$js" bench train-step --backends webgpu --size tiny --steps 5 "${variants[@]}" "${torch_args[@]}"
    step train-step-large 120 train-step-large.json "$node" "$js" bench train-step --backends webgpu --size large --steps 3 "${variants[@]}" "${torch_args[@]}"
    step generation 35 generation.json "$node" "$js" bench generation --backend webgpu
    mapfile -t overrides < <(overrides quickstart)
  fi
  # The rest trains with the matmul that was fastest on the largest step timed above.
  matmul=$(fastest_matmul)
  # Training losses on webgpu against native's, saved by gpu-check:pack where the addon runs.
  local agree_steps=20 agree_limit=90
  [ "$quick" = 1 ] && agree_limit=900
  step agree "$agree_limit" - "$node" "$js" exp agree "$root/configs/quickstart.yaml" "data.output.cacheDir=$work/datasets" "gpu.matmul=$matmul" \
    --backends webgpu --steps "$agree_steps" --reference "$pack/agree-native.json" --save "$out/agree.json"
  step_end_s=$check_end_s
  step quickstart "$budget_s" - "$node" "$js" exp run "$root/configs/quickstart.yaml" backend=webgpu "data.output.cacheDir=$work/datasets" \
    "gpu.matmul=$matmul" "${overrides[@]}" --runs-dir "$runs" --cache-dir "$work/stage-cache"
  step_end_s=
}

# `SL_WEBGPU_MATMUL=<kernel>` for every kernel but tfjs's, `;`-separated (the pack's list).
matmul_flags() {
  "$node" "$js" matmuls | tr ' ' '\n' | grep -v '^tfjs$' | sed 's/^/SL_WEBGPU_MATMUL=/' | paste -sd ';'
}

# The matmul kernel the exp steps train with: the fastest of the largest train-step run so far
# (large, else tiny) among those that passed the conformance suite (fastest-matmul.cjs); tfjs
# when none ran.
fastest_matmul() {
  local f
  for f in "$out/train-step-large.json" "$out/train-step-tiny.json"; do
    [ -s "$f" ] && "$node" "$here/fastest-matmul.cjs" "$f" "$out/conformance.json" && return
  done
  echo "matmul for the steps below: tfjs (no train-step figures to choose from)" >&2
  echo tfjs
}

# Every matmul kernel on the GEMM shapes of the large step (and a square one) beside PyTorch's:
# a diagnosis for the next kernel, so it runs last, on what is left of the budget.
gemm() {
  local gemm_torch=(--no-torch); [ -n "$py" ] && gemm_torch=(--python "$py")
  local left=$(( budget_s - ($(now_ms) - start_ms) / 1000 ))
  if [ "$left" -lt 15 ]; then
    # Not a failure: the steps above had the budget's priority.
    echo "=== webgpu-gemm: not run ($(( left > 0 ? left : 0 )) s of the ${budget_s} s budget left)"
    summary+=("$(printf '%-22s %-26s %8s' webgpu-gemm 'not run (no time left)' '-')")
    return
  fi
  if [ "$quick" = 1 ]; then
    step webgpu-gemm 600 webgpu-gemm.json "$node" "$js" bench webgpu-gemm --size tiny --reps 1 --shapes qkv,qk,head.dw "${gemm_torch[@]}"
  else
    step webgpu-gemm 60 webgpu-gemm.json "$node" "$js" bench webgpu-gemm --size large --reps 10 "${gemm_torch[@]}"
  fi
}

# configs/paper/sllm-vs-token-gpu.yaml: a d 512 token LM and SLLM trained and compared on the GPU
# (with --quick at d 64, one layer and three steps each, to rehearse on a software adapter).
gpu_config() {
  local overrides=()
  [ "$quick" = 1 ] && mapfile -t overrides < <(overrides gpu-config-quick)
  [ -n "$matmul" ] || matmul=$(fastest_matmul)
  step gpu-config "$budget_s" - "$node" "$js" exp run "$root/configs/paper/sllm-vs-token-gpu.yaml" "data.output.cacheDir=$work/datasets" \
    "gpu.matmul=$matmul" "${overrides[@]}" --runs-dir "$work/runs" --cache-dir "$work/stage-cache"
}

mkdir -p "$out"
# The figures this run chooses its matmul from must be its own.
rm -f "$out"/conformance.json "$out"/train-step-tiny.json "$out"/train-step-large.json "$out"/generation.json "$out"/webgpu-gemm.json
main 2>&1 | tee "$out/gpu-check.log"
exit "${PIPESTATUS[0]}"
