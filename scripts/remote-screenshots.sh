#!/usr/bin/env bash
# Screenshots of the pages users see in the remote step (docs/policies.md), taken in a real
# headless Chromium against two real Verity instances on loopback:
#   central (127.0.0.1:18091): a plain identity server that validates everything itself;
#   local   (127.0.0.1:18092): the default policy, its `root` label pointed at central.
# Messages go to files (the `file` connector); the script reads the links from them as a user
# would click them. Not used by the test suite.
#
#   scripts/remote-screenshots.sh [output directory, default docs/img]
#
# Needs chromium (Debian: apt-get install chromium), curl, and a debug build of verity.
set -euo pipefail

OUT=${1:-docs/img}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/target/debug/verity"
CHROMIUM=${CHROMIUM:-chromium}
WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$OUT"
(cd "$ROOT" && cargo build -q -p verity)

config() { # name port matrix-extra-yaml policy-yaml
    cat >"$WORK/$1.yaml" <<EOF
matrix:
  domain: example.org
$3
server:
  name: $1.example
  hostname: 127.0.0.1
  port: $2
  publicUrl: http://127.0.0.1:$2
key:
  path: $WORK/$1/keys
storage:
  backend: sqlite
  provider:
    sqlite:
      database: $WORK/$1/verity.db
threepid:
  medium:
    email:
      identity:
        from: verity@$1.example
      connector: file
      connectors:
        file:
          directory: $WORK/$1/outbox
$4
EOF
}

# Central validates everything itself; local keeps the default policy, `root` pointing at central.
config central 18091 "" "
session:
  policy:
    validation:
      forLocal: {toLocal: true, toRemote: {enabled: false}}
      forRemote: {toLocal: true, toRemote: {enabled: false}}"
config local 18092 "  identity:
    servers:
      root: ['http://127.0.0.1:18091']" ""

for name in central local; do
    mkdir -p "$WORK/$name"
    (cd "$WORK" && exec "$BIN" -c "$WORK/$name.yaml" >"$WORK/$name.log" 2>&1) &
    PIDS+=($!)
done
for port in 18091 18092; do
    for _ in $(seq 100); do
        curl -fs "http://127.0.0.1:$port/_matrix/identity/api/v1" >/dev/null && break
        sleep 0.1
    done
done

LOCAL=http://127.0.0.1:18092
REMOTE=/_matrix/identity/remote/api/v1/validate

shot() { # file url
    "$CHROMIUM" --headless --disable-gpu --no-sandbox --hide-scrollbars \
        --screenshot="$OUT/$1" --window-size=900,700 "$2" >/dev/null 2>&1
    echo "$OUT/$1"
}

# A page only a POST returns: saved as it came, then rendered from the file.
shot_post() { # file url
    curl -fs -X POST -H 'content-type: application/x-www-form-urlencoded' "$2" -o "$WORK/page.html" \
        || curl -s -X POST -H 'content-type: application/x-www-form-urlencoded' "$2" -o "$WORK/page.html"
    shot "$1" "file://$WORK/page.html"
}

request() { # email secret -> sid
    curl -fs -X POST "$LOCAL/_matrix/identity/api/v1/validate/email/requestToken" \
        -H 'content-type: application/json' \
        -d "{\"client_secret\":\"$2\",\"email\":\"$1\",\"send_attempt\":1}" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["sid"])'
}

last_link() { # outbox directory
    local file
    file=$(ls -t "$1"/*.eml | head -1)
    grep -o 'http://127\.0\.0\.1:[0-9]*/[^" <>]*submitToken?[^" <>]*' "$file" | head -1 | sed 's/&amp;/\&/g'
}

# Local email, local and remote: the success page offers the remote step.
SID=$(request alice@example.org secretAlice)
shot remote-offer.png "$(last_link "$WORK/local/outbox")"

# The offer taken after the homeserver bound the session here: the check binds her there too.
curl -fs -X POST "$LOCAL/_matrix/identity/api/v1/3pid/bind" -H 'content-type: application/json' \
    -d "{\"sid\":\"$SID\",\"client_secret\":\"secretAlice\",\"mxid\":\"@alice:example.org\"}" >/dev/null
Q="sid=$SID&client_secret=secretAlice"
curl -fs -X POST "$LOCAL$REMOTE/requestToken?$Q" >/dev/null
curl -fs "$(last_link "$WORK/central/outbox")" >/dev/null
shot remote-published.png "$LOCAL$REMOTE/check?$Q"

# Remote email, remote forced: the link leads to the explanation.
SID=$(request bob@gmail.com secretBob)
Q="sid=$SID&client_secret=secretBob"
shot remote-explain.png "$(last_link "$WORK/local/outbox")"
shot_post remote-started.png "$LOCAL$REMOTE/requestToken?$Q"
shot remote-not-yet.png "$LOCAL$REMOTE/check?$Q"
curl -fs "$(last_link "$WORK/central/outbox")" >/dev/null
shot remote-success.png "$LOCAL$REMOTE/check?$Q"

# A damaged link.
shot remote-failure.png "$LOCAL$REMOTE/requestToken?sid=$SID&client_secret=wrong"

# Central down: the start fails and says so.
SID=$(request carol@gmail.com secretCarol)
curl -fs -o /dev/null "$(last_link "$WORK/local/outbox")" || true
kill "${PIDS[0]}"
wait "${PIDS[0]}" 2>/dev/null || true
sleep 0.2
shot_post remote-down.png "$LOCAL$REMOTE/requestToken?sid=$SID&client_secret=secretCarol"
