#!/usr/bin/env bash
# Team self-play on hide-and-seek's quadrant map (2 hiders v 2 seekers, 2 boxes, 1 ramp, 80-step games)
# within one time budget, then cross-play of the final policy and behaviour curves.
#
#   bash examples/train_hide_and_seek.sh                                   # 150 minutes, 2 CPU threads
#   MINUTES=10 DEVICE=cuda NUM_ENVS=16384 bash examples/train_hide_and_seek.sh   # a GPU
#   RUN=runs/hns_entity EXTRA="--policy entity" bash examples/train_hide_and_seek.sh
#   ENV_ID=hide_and_seek_v2 bash examples/train_hide_and_seek.sh           # the door shelter's game, 0.1 s steps
#   ENV_ID=hide_and_seek_v1 bash examples/train_hide_and_seek.sh           # v1's defaults
#
# The env is hide_and_seek_v4 unless ENV_ID says otherwise: the paper's quadrant game with 0.5 m cubes, sight lines
# with heights and the rim sight rule (v2), at the released game's pace (v3: 0.2 s steps) and under its lock rule
# (v4: a lock lasts until its locker lets go). MAPPO's preset for it adds a chain of start curricula, training only:
# the boxes in front of the doors in half the games from the start (--env-kwargs '{"boxes_at_doors": 0.5}'), then,
# as self-play shows each stage (--curriculum), the ramp at the room's wall once the doors are shut, and the ramp by
# a door (for the hiders to lock) once the seekers use it. One run of this script from scratch showed the shelter
# after 33 minutes and ramp use after 57 (docs: team self-play). Each earlier version has its own preset:
# v2's and v3's chain ends with the ramp and a hider by a door, v1's has no curriculum. The runs of the team
# self-play page name their ENV_ID and EXTRA. An --env-kwargs in EXTRA replaces the preset's (one JSON object):
# repeat "boxes_at_doors": 0.5 in it to keep the door starts.
#
# Everything else is the CLI's preset for the env (printed at start, stored in config.json). When the
# budget is spent the trainer gets a Ctrl-C: the update in progress finishes and a checkpoint is saved.
# Running the script again with the same RUN continues that run (--resume) for another budget; of EXTRA's options
# only those a resume takes count there (--curriculum adds or replaces the run's schedule of start curricula).
# What it writes under RUN: metrics.csv (behaviour/* columns: what agents do with boxes and ramps,
# behaviour/stage: 0 chasing, 1 shelter, 2 ramp use, 3 ramp defense), stages/<i>_<stage>.pt (a small
# policy file saved the first time each stage shows, and a GIF of one game it plays against itself),
# crossplay/*.json (and *.csv: one line per game) and behaviour.png.
set -euo pipefail

ENV_ID=${ENV_ID:-hide_and_seek_v4}
RUN=${RUN:-runs/hide_and_seek_selfplay}
MINUTES=${MINUTES:-150}
BUDGET_S=${BUDGET_S:-$((MINUTES * 60))}
DEVICE=${DEVICE:-cpu}
THREADS=${THREADS:-2}
EPISODES=${EPISODES:-1000}

if [ -f "$RUN/checkpoints/latest.pt" ]; then
  train=(python -m baselines.mappo --resume "$RUN" ${EXTRA:-})  # a resume keeps its arguments but a new --curriculum
else
  train=(python -m baselines.mappo --env-id "$ENV_ID" --run-dir "$RUN" --device "$DEVICE"
         --total-timesteps 100000000000 ${NUM_ENVS:+--num-envs "$NUM_ENVS"} ${EXTRA:-})
fi
status=0
timeout -s INT -k 300 "$BUDGET_S" "${train[@]}" --torch-threads "$THREADS" --no-progress || status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 124 ]; then
  exit "$status"  # 124: the budget ran out and the run stopped cleanly
fi

mkdir -p "$RUN/crossplay"
# Every pairing plays on the run's env (its env id, which a resumed run keeps whatever ENV_ID says, and its
# --env-kwargs), scripted v scripted too, less the training-only arguments (boxes_at_doors, a curriculum of start
# states): the games start anywhere.
ENV_ID=$(python -c 'import json, sys; print(json.load(open(sys.argv[1]))["env_id"])' "$RUN/config.json")
KWARGS=$(python -c 'import json, sys; from marl_envs import evaluation_kwargs
saved = json.load(open(sys.argv[1])); kwargs = json.loads(saved.get("env_kwargs", "{}"))
print(json.dumps(evaluation_kwargs(saved["env_id"], kwargs)[0]))' "$RUN/config.json")
for pair in "$RUN $RUN" "$RUN scripted" "scripted $RUN" "$RUN random" "random $RUN" "scripted scripted"; do
  set -- $pair
  name="$(basename "$1")_vs_$(basename "$2")"
  python -m baselines.evaluate --env-id "$ENV_ID" --env-kwargs "$KWARGS" --hiders "$1" --seekers "$2" \
      --episodes "$EPISODES" --device "$DEVICE" --json "$RUN/crossplay/$name.json" \
      --games-csv "$RUN/crossplay/$name.csv" > "$RUN/crossplay/$name.txt"
  head -4 "$RUN/crossplay/$name.txt"
done

# A run with an opponent pool (--opponent-pool, --reference-opponents) logs the games of every update, those a team
# played against a frozen opponent too: its curves show the updates in which both teams played the current policy.
# A best response (--learn-team) has no self-play rows, so no stage of play: draw every row, without the stage.
WHERE=()
STAGE=(behaviour/stage)
if python -c 'import json, sys; sys.exit(not json.load(open(sys.argv[1])).get("learn_team"))' "$RUN/config.json"; then
  STAGE=()  # the run has a --learn-team
elif head -1 "$RUN/metrics.csv" | grep -q "selfplay/frozen_team"; then
  WHERE=(--where selfplay/frozen_team=-1)
fi
python -m baselines.plot "$RUN" "${WHERE[@]}" --out "$RUN/behaviour.png" --smooth 3 --metric episodic_return \
    behaviour/all_doors_blocked_prep behaviour/box_locked_hiders_prep behaviour/hidden_fraction behaviour/seekers_elevated \
    behaviour/seekers_crossed behaviour/ramp_secured_prep behaviour/max_box_move_prep "${STAGE[@]}"
# A run with a schedule of start curricula (--curriculum, the v2 presets) also shows the steps it applied.
LEVEL=()
if head -1 "$RUN/metrics.csv" | grep -q "curriculum/level"; then LEVEL=(curriculum/level); fi
python -m baselines.plot "$RUN" "${WHERE[@]}" --out "$RUN/behaviour_time.png" --x time --smooth 3 --metric episodic_return \
    behaviour/all_doors_blocked_prep behaviour/seekers_crossed behaviour/ramp_secured_prep "${STAGE[@]}" "${LEVEL[@]}"
# One game of each stage's policy against itself, as a GIF beside its policy file (stages/<i>_<stage>.gif).
for stage in "$RUN"/stages/*.pt; do
  [ -e "$stage" ] || continue
  python -m baselines.evaluate --env-id "$ENV_ID" --env-kwargs "$KWARGS" --hiders "$stage" --seekers "$stage" \
      --episodes 1 --device cpu --video "${stage%.pt}.gif" > /dev/null
  echo "stage reached: $(basename "${stage%.pt}") (${stage%.pt}.gif)"
done
