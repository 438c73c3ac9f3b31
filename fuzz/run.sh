#!/usr/bin/env bash
# Runs every fuzz target for a set number of executions (default 200000 each), seeded with the
# community's preset and weight files and the recorded racetime.gg session from ../shared.
# Needs cargo-fuzz (installed here if missing) and libFuzzer's stable-toolchain escape hatch
# (RUSTC_BOOTSTRAP=1, since only a stable Rust is available). Not part of CI.
#   fuzz/run.sh [RUNS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
runs="${1:-200000}"
shift || true
shared="${SAHASRAHBOT_SHARED_DIR:-$(cd ../.. && pwd)/shared}"
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/sahasrahbot/fuzz-target}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

work="${FUZZ_WORK_DIR:-$HOME/.cache/sahasrahbot/fuzz}"
mkdir -p "$work"

seed() { # seed TARGET: fills $work/corpus/TARGET from the fixtures
  local target=$1 dir="$work/corpus/$1"
  mkdir -p "$dir"
  case "$target" in
    preset_yaml) cp -f "$shared"/upstream/presets/{alttpr,sm,smz3,ctjets}/*.yaml ../presets/*/*.yaml "$dir"/ 2>/dev/null || true ;;
    mystery_weights) cp -f "$shared"/upstream/presets/alttprmystery/*.yaml "$dir"/ ;;
    customizer_file) cp -f seeds/customizer_file/* "$shared"/fixtures/seedgen/*.json "$dir"/ ;;
    discord_interaction) cp -f seeds/discord_interaction/* "$dir"/ ;;
    racetime_server_message|racetime_command)
      python3 - "$shared/fixtures/racetime/transcript.jsonl" "$dir" "$target" <<'PY'
import json, sys, hashlib, os
src, out, target = sys.argv[1:4]
def write(text):
    name = hashlib.sha1(text.encode()).hexdigest()[:16]
    open(os.path.join(out, name), "w").write(text)
for line in open(src):
    record = json.loads(line)
    if record["kind"] != "ws" or record["dir"] != "<-":
        continue
    if target == "racetime_server_message":
        write(json.dumps(record["payload"]))
    else:
        payload = record["payload"]
        messages = payload.get("messages") or ([payload["message"]] if "message" in payload else [])
        for message in messages:
            if isinstance(message, dict) and message.get("message"):
                write(message["message"])
for command in ["!race open", "!mystery weighted", "!spoiler open 900", "!flags ABC",
                "!race hard --teams --seed=5", "!ttp4", "!preset standard", "!total casual_full",
                "!multiworld normal --players=a,b", "!tournamentrace", "!lock", "!konot"]:
    write(command)
PY
      ;;
  esac
}

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(racetime_command racetime_server_message preset_yaml mystery_weights customizer_file discord_interaction)
fi
failed=0
for target in "${targets[@]}"; do
  seed "$target"
  mkdir -p "$work/artifacts/$target"
  echo "==> $target: $runs executions"
  log="$work/$target.log"
  status=0
  cargo fuzz run --sanitizer none "$target" "$work/corpus/$target" -- \
    -runs="$runs" -max_len=65536 -artifact_prefix="$work/artifacts/$target/" -print_final_stats=1 \
    >"$log" 2>&1 || status=$?
  grep -E "^stat::(number_of_executed_units|new_units_added|peak_rss_mb)" "$log" || true
  if [ "$status" -ne 0 ]; then
    echo "    FAILED (exit $status): see $log and $work/artifacts/$target/"
    grep -E "panicked at|ERROR: libFuzzer" -A3 "$log" | head -20 || true
    failed=1
  fi
done
exit "$failed"
