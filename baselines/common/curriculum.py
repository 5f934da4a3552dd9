"""A curriculum of start states that moves on with the stage of play (``--curriculum``).

Why. Hide-and-seek's later stages grow out of the earlier ones: the seekers only need the ramp once the
hiders shut the doors, and the hiders only need to defend the ramp once the seekers use it. A start-state
curriculum that helps one stage (the ramp set against the room's wall, for ramp use) is wasted, or harmful,
before the stage it builds on exists, and one fixed mix cannot serve every stage of a single run. The run
that reached shelter, ramp use and the ramp by the door did so as three runs started from each other by hand;
``StageCurriculum`` chains them in one run: each time self-play first shows a stage (``behaviour/stage``, the
env's own thresholds) for ``patience`` updates in a row, the env's training-only arguments change to what the
schedule gives for that stage.

The schedule is a JSON object from stage name (a space may be written ``_``) to arguments, e.g.
``{"shelter": {"ramp_at_wall": 0.3}, "ramp use": {"ramp_at_wall": 0.2, "ramp_near_door": 0.3}}``; each step
is applied on top of the previous ones and of the run's ``--env-kwargs``. Only training-only arguments can
change (``BatchedEnv.set_training_kwargs``): evaluation drops them, so a run's evaluations still play the game
itself. Updates that show no stage (no finished episode, or a team that played a frozen opponent) neither
count nor break a streak. The level reached is saved in checkpoints and re-applied on resume.
"""

from __future__ import annotations

import json
import math
from typing import Any


def parse_curriculum(text: str, stages: tuple[str, ...]) -> list[tuple[int, dict[str, Any]]]:
    """``--curriculum``'s JSON as (stage index, arguments) steps in stage order; a clear error for anything else."""
    if not text:
        return []
    try:
        schedule = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"--curriculum must be a JSON object from stage name to env arguments, got {text!r}: "
                         f"{err}") from None
    if not isinstance(schedule, dict):
        raise ValueError(f"--curriculum must be a JSON object from stage name to env arguments, got {text!r}")
    if schedule and not stages:
        raise ValueError("--curriculum needs an env with stages of play (env.stages); this env has none")
    steps = []
    for given, kwargs in schedule.items():
        name = str(given).replace("_", " ")  # "ramp_use" as in stages/2_ramp_use.pt: no quoting in a shell variable
        if name not in stages:
            raise ValueError(f"--curriculum: unknown stage {given!r}; the env's stages are {list(stages)}")
        if stages.index(name) == 0:
            raise ValueError(f"--curriculum: {given!r} is where every run starts; give its arguments in "
                             "--env-kwargs")
        if not isinstance(kwargs, dict) or not kwargs:
            raise ValueError(f"--curriculum: stage {given!r} needs a non-empty JSON object of env arguments, "
                             f"got {kwargs!r}")
        steps.append((stages.index(name), kwargs))
    return sorted(steps, key=lambda step: step[0])


class StageCurriculum:
    """Which schedule step a run has reached, and the streak of updates towards the next one.

    Args:
        steps: ``parse_curriculum``'s (stage index, arguments), in stage order.
        patience: updates in a row that must show the next step's stage (or a later one) before it applies.
    """

    def __init__(self, steps: list[tuple[int, dict[str, Any]]], patience: int):
        if patience < 1:
            raise ValueError(f"--curriculum-patience must be >= 1, got {patience}")
        self.steps, self.patience = steps, patience
        self.level = 0  # steps applied so far
        self.streak = 0

    @property
    def enabled(self) -> bool:
        return bool(self.steps)

    def arguments(self, level: int | None = None) -> dict[str, Any]:
        """The training-only arguments the schedule sets at ``level`` (default: the current one), merged in order."""
        merged: dict[str, Any] = {}
        for _, kwargs in self.steps[:self.level if level is None else level]:
            merged.update(kwargs)
        return merged

    def observe(self, stage_index: float) -> dict[str, Any] | None:
        """Count one update that showed ``stage_index`` (NaN: none); the arguments to apply when a step is due."""
        if self.level >= len(self.steps) or math.isnan(stage_index):
            return None
        self.streak = self.streak + 1 if stage_index >= self.steps[self.level][0] else 0
        if self.streak < self.patience:
            return None
        self.level, self.streak = self.level + 1, 0
        return dict(self.steps[self.level - 1][1])

    def state_dict(self) -> dict[str, Any]:
        return {"level": self.level, "streak": self.streak}

    def load_state_dict(self, saved: dict[str, Any]) -> None:
        self.level = min(int(saved["level"]), len(self.steps))  # a resume may give a shorter schedule
        self.streak = int(saved["streak"])
