"""The later versions of hide-and-seek: the same scenario class with other defaults (``config``'s version classes).

Why a module of their own: a version changes defaults only (v2 the door shelter's, v3 the step, v4 the lock rule),
never the code, so each is one line on top of ``scenario.HideAndSeek`` and the scenario file stays the game's.
"""

from marl_envs.scenarios.hide_and_seek.config import HideAndSeekV2Config, HideAndSeekV3Config, HideAndSeekV4Config
from marl_envs.scenarios.hide_and_seek.scenario import HideAndSeek


class HideAndSeekV2(HideAndSeek):
    """hide_and_seek_v2: the same game and rules as v1, with v2's defaults (``HideAndSeekV2Config``)."""

    config_cls = HideAndSeekV2Config


class HideAndSeekV3(HideAndSeekV2):
    """hide_and_seek_v3: v2's game in 0.2 s steps (``HideAndSeekV3Config``): the released quadrant game's pace."""

    config_cls = HideAndSeekV3Config


class HideAndSeekV4(HideAndSeekV3):
    """hide_and_seek_v4: v3 under the released game's lock rule (``HideAndSeekV4Config``: ``lock_rule`` "hold")."""

    config_cls = HideAndSeekV4Config
