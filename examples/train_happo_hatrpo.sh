#!/usr/bin/env bash
# MAPPO, HAPPO and HATRPO side by side (trust-region learning for teams of different agents):
#   {mappo, happo, hatrpo} x {spread_v0, transport_v0, hetero_transport_v0} x seeds, each at TIMESTEPS env steps
# with the env's preset (baselines/common/presets.py): MAPPO shares one actor between the agents (its default);
# HAPPO and HATRPO give each agent its own, except where the preset shares one actor that the agents update in
# turn (HAPPO on spread_v0 and transport_v0, HATRPO on transport_v0: agents that are alike). On the envs in NOID_ENVS
# MAPPO also runs with --no-agent-id (one network that is not told which agent it drives: parameter sharing as
# MAPPO's reference code runs MPE; the table's sharing column reads "all, no id"). Each run is then evaluated
# greedily (EPISODES episodes) and one table is printed and written to $ROOT/table.{csv,md}
# (examples/compare_runs.py says what each column is).
#
#   examples/train_happo_hatrpo.sh                                   # the full comparison, 2 runs at a time
#   JOBS=8 examples/train_happo_hatrpo.sh                            # on a 16-core machine
#   TIMESTEPS=20000 SEEDS=1 ROOT=runs/compare_smoke examples/train_happo_hatrpo.sh   # a smoke test
#   ALGOS="mappo happo" ENVS=spread_v0 examples/train_happo_hatrpo.sh                  # a slice (wall time)
#
# Unattended and resume-safe: every run trains single-threaded in its own directory, a run that was
# stopped resumes from its last checkpoint, and a run with an eval.json is skipped. Re-running the script
# after an interruption finishes what is missing and prints the whole table again.
set -euo pipefail
cd "$(dirname "$0")/.."

JOBS=${JOBS:-2}
TIMESTEPS=${TIMESTEPS:-2000000}
SEEDS=${SEEDS:-"1 2 3"}
ALGOS=${ALGOS:-"mappo happo hatrpo"}
ENVS=${ENVS:-"spread_v0 transport_v0 hetero_transport_v0"}
NOID_ENVS=${NOID_ENVS:-"hetero_transport_v0"}
EPISODES=${EPISODES:-1000}
ROOT=${ROOT:-runs/compare_happo_hatrpo}
PYTHON=${PYTHON:-python}
export PYTHON TIMESTEPS EPISODES ROOT

one_run() {  # ALGO ENV SEED [FLAG]: train (or resume, or skip), then evaluate
  local algo=$1 env=$2 seed=$3 flag=${4:-}
  local dir="$ROOT/${algo}_${env}_s${seed}${flag:+_noid}"
  if [[ -f "$dir/eval.json" ]]; then
    echo "done already: $dir"
    return 0
  fi
  mkdir -p "$dir"
  local log="$dir/train.log"
  if [[ -f "$dir/checkpoints/latest.pt" ]]; then
    echo "resuming: $dir"
    "$PYTHON" -m "baselines.$algo" --resume "$dir" --torch-threads 1 --no-progress >>"$log" 2>&1
  else
    echo "training: $dir"
    "$PYTHON" -m "baselines.$algo" --env-id "$env" --seed "$seed" --total-timesteps "$TIMESTEPS" \
      --run-dir "$dir" --torch-threads 1 --no-progress ${flag:+"$flag"} >>"$log" 2>&1
  fi
  "$PYTHON" -m baselines.evaluate "$dir" --episodes "$EPISODES" --json "$dir/eval.json.tmp" >>"$log" 2>&1
  mv "$dir/eval.json.tmp" "$dir/eval.json"
  echo "finished: $dir ($(tail -n 1 "$log"))"
}
export -f one_run

mkdir -p "$ROOT"
jobs_file="$ROOT/jobs.txt"
: >"$jobs_file"
for seed in $SEEDS; do
  for env in $ENVS; do
    for algo in $ALGOS; do
      echo "$algo $env $seed" >>"$jobs_file"
    done
    if [[ " $ALGOS " == *" mappo "* && " $NOID_ENVS " == *" $env "* ]]; then
      echo "mappo $env $seed --no-agent-id" >>"$jobs_file"
    fi
  done
done
echo "$(wc -l <"$jobs_file") runs of $TIMESTEPS env steps, $JOBS at a time, under $ROOT"
status=0
xargs -P "$JOBS" -L 1 bash -c 'one_run "$0" "$1" "$2" "${3:-}"' <"$jobs_file" || status=$?
"$PYTHON" examples/compare_runs.py "$ROOT" --csv "$ROOT/table.csv" --markdown "$ROOT/table.md"
if [[ $status -ne 0 ]]; then
  echo "some runs failed (see their train.log); re-run this script to resume them" >&2
fi
exit $status
