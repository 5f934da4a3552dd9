"""Rendering: draw a :class:`Snapshot` of one world with pygame, as a window or an RGB array.

Envs only *read* their state into a ``Snapshot``; pygame is imported on the first render, so
importing this package does not import pygame.
"""

from marl_envs.render.renderer import PygameRenderer
from marl_envs.render.snapshot import Snapshot

__all__ = ["PygameRenderer", "Snapshot"]
