"""Named colours shared by every scenario, so teams and entity types look the same everywhere.

Colours are float RGB tuples in [0, 1], the unit the :class:`~marl_envs.render.snapshot.Snapshot`
contract uses, so scenarios never think in 0-255. Only the drawing layer converts, with
:func:`to_rgb255`. The agent and landmark shades follow MPE so that ``spread_v0`` frames look like
MPE2's ``simple_spread_v3``; the team colours follow the hide-and-seek paper (hiders blue,
seekers red).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

RGB = tuple[float, float, float]

BACKGROUND: RGB = (1.0, 1.0, 1.0)
"""Arena floor: white, as in MPE, so bodies and walls stand out."""
WALL: RGB = (0.3, 0.3, 0.3)
"""Static wall segments: dark grey, readable against both the floor and the team colours."""
OUTLINE: RGB = (0.0, 0.0, 0.0)
"""Thin body borders and heading ticks: black, so touching bodies of one colour stay distinct."""
LINK: RGB = (0.1, 0.1, 0.1)
"""Grab links between an agent and the body it holds."""
AGENT: RGB = (0.35, 0.35, 0.85)
"""Default agent colour (MPE's cooperative agents)."""
LANDMARK: RGB = (0.25, 0.25, 0.25)
"""Landmarks and goals (MPE's landmark grey)."""
HIDER: RGB = (0.25, 0.45, 0.95)
"""Hide-and-seek hiders: blue."""
SEEKER: RGB = (0.9, 0.3, 0.3)
"""Hide-and-seek seekers: red."""
BOX: RGB = (0.85, 0.65, 0.25)
"""Movable boxes: ochre, distinct from both teams."""
RAMP: RGB = (0.55, 0.4, 0.25)
"""Ramps: brown, darker than boxes so the two are told apart at a glance."""
LOCKED: RGB = (0.55, 0.55, 0.6)
"""Locked (immovable) boxes and ramps: desaturated, the cue that they can no longer be pushed."""
LOCKED_HIDERS: RGB = (0.5, 0.58, 0.78)
"""Boxes and ramps locked by the hiders: grey-blue, a desaturated HIDER, so who locked it shows."""
LOCKED_SEEKERS: RGB = (0.78, 0.52, 0.56)
"""Boxes and ramps locked by the seekers: grey-rose, a desaturated SEEKER, unlike ochre BOX/brown RAMP."""
CONE: RGB = (0.6, 0.6, 0.6)
"""Default vision cone tint: light grey once blended at ``CONE_ALPHA`` over the floor."""
CONE_HIDER: RGB = (0.25, 0.45, 0.95)
"""Hiders' vision cones: the HIDER blue, which ``CONE_ALPHA`` blending turns into a pale tint."""
CONE_SEEKER: RGB = (0.9, 0.3, 0.3)
"""Seekers' vision cones: the SEEKER red, which ``CONE_ALPHA`` blending turns into a pale tint."""
CONE_ALPHA: float = 0.25
"""Opacity of vision cones in [0, 1]: low, so the floor, walls and overlapping cones show through."""
LIDAR: RGB = (0.6, 0.82, 0.6)
"""Lidar rays (1-pixel lines): light green, faint next to walls and unlike either team."""
LIDAR_HIT: RGB = (0.2, 0.55, 0.2)
"""Dots where lidar rays hit something: a darker LIDAR green, so hits stand out from the rays."""
ELEVATED: RGB = (1.0, 1.0, 1.0)
"""Inner ring around bodies standing on a ramp or box; an OUTLINE ring outside it reads on any floor."""
RAMP_MARKER_SHADE: float = 0.6
"""A ramp's uphill arrow is its own fill colour times this factor, so locked and team colours keep it."""
HUD_TEXT: RGB = (0.1, 0.1, 0.1)
"""Heads-up text (step, phase, rewards) at the top-left: near-black on the white floor."""


def to_rgb255(color: ArrayLike) -> np.ndarray:
    """Converts float RGB in [0, 1] to the 0-255 integers pygame wants.

    Values are clipped first, so a colour computed slightly out of range (e.g. a brightened team
    colour) still draws instead of raising inside pygame.

    Args:
        color: (..., 3) float in [0, 1]: one colour or an array of colours.

    Returns:
        (..., 3) int64 in [0, 255]. Call ``.tolist()`` to get plain ints for pygame.
    """
    rgb = np.asarray(color, dtype=np.float64)
    if rgb.shape[-1:] != (3,):
        raise ValueError(f"to_rgb255: expected shape (..., 3), received {rgb.shape}.")
    return np.rint(np.clip(rgb, 0.0, 1.0) * 255.0).astype(np.int64)
