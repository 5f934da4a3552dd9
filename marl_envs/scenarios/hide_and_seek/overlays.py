"""What the renderer draws for hide-and-seek beyond the bodies: vision cones cut off by walls and
boxes, lidar rays, lock colours, grab links, ramp and elevation marks and the HUD line.

Kept apart from the rules (``scenario.py``) because none of it takes part in a step: it only
reads a world's state for ``render()``.
"""

from __future__ import annotations

import math

import torch

from marl_envs.sensors.raycast import Obstacles, ray_cast

# Colours (RGB in [0, 1]) are the renderer palette's; scenarios do not import the render layer.
HIDER_COLOR = (0.25, 0.45, 0.95)
SEEKER_COLOR = (0.9, 0.3, 0.3)
BOX_COLOR = (0.85, 0.65, 0.25)
RAMP_COLOR = (0.55, 0.4, 0.25)
LOCKED_COLORS = ((0.5, 0.58, 0.78), (0.78, 0.52, 0.56))  # locked by hiders, by seekers: team-tinted greys
CONE_COLORS = (HIDER_COLOR, SEEKER_COLOR)  # blended translucent by the renderer
CONE_RANGE = 1.0  # drawn length of a vision cone (sight itself has no range limit)
CONE_SAMPLES = 33  # directions across a drawn cone at which it is cut off by walls and boxes


def body_colors(config) -> torch.Tensor:
    """(bodies, 3) fill colours in body order: hiders, seekers, boxes, ramps."""
    colors = [HIDER_COLOR] * config.num_hiders + [SEEKER_COLOR] * config.num_seekers
    colors += [BOX_COLOR] * config.num_boxes + [RAMP_COLOR] * config.num_ramps
    return torch.tensor(colors, dtype=torch.float32)


def render_extras(self, index: int) -> dict:  # self: the HideAndSeek scenario
    """Vision cones, lidar rays, lock colours, grab links, ramp and elevation marks and a HUD line."""
    c, a = self.config, self.config.num_agents
    s = self.world.state
    i = index
    colors = self.body_colors.clone()
    lock = self.lock_team[i].cpu()
    for team, color in enumerate(LOCKED_COLORS):
        colors[a:][lock == team] = torch.tensor(color)
    pos, angle = s.pos[i, :a].cpu(), s.angle[i, :a].cpu()
    cones = torch.cat((pos, angle.unsqueeze(-1), torch.full((a, 1), self.half_angle),
                       torch.full((a, 1), CONE_RANGE)), dim=-1)
    holders = (self.grabs.target[i] >= 0).cpu()
    links = torch.stack((torch.arange(a)[holders], self.grabs.target[i].cpu()[holders]), dim=-1)
    extras = {
        "color": colors.tolist(), "cones": cones.tolist(), "links": links.tolist(),
        "cone_color": [CONE_COLORS[int(t)] for t in self.team.tolist()],
        "cone_reach": cone_reach(self, i).tolist(),
        "ramp": [False] * (a + c.num_boxes) + [True] * c.num_ramps,
        "elevated": self.elevated[i].cpu().tolist() + [False] * self.num_objects,
        "hud": hud(self, i),
    }
    if c.lidar_rays:
        ranges = self.sense().lidar[i].cpu() * c.lidar_range  # (A, R)
        angles = angle.unsqueeze(-1) + torch.arange(c.lidar_rays) * (2 * math.pi / c.lidar_rays)
        ends = pos.unsqueeze(1) + ranges.unsqueeze(-1) * torch.stack((angles.cos(), angles.sin()), dim=-1)
        extras["rays"] = torch.stack((pos.unsqueeze(1).expand_as(ends), ends), dim=2).flatten(0, 1).tolist()
        extras["ray_hit"] = (ranges < c.lidar_range - 1e-4).flatten().tolist()
    return extras


def cone_reach(self, i: int) -> torch.Tensor:
    """(A, CONE_SAMPLES) how far each agent's cone is clear, across it, in world ``i``: the drawn
    cone stops at the walls and boxes that block sight (an elevated agent sees over them)."""
    a, s = self.config.num_agents, self.world.state
    occluders = self._occluders()
    one = Obstacles(*(getattr(occluders, f)[i:i + 1] for f in ("center", "axis", "half", "valid")))
    spread = torch.linspace(-self.half_angle, self.half_angle, CONE_SAMPLES, device=self.device)
    angles = s.angle[i:i + 1, :a, None] + spread  # (1, A, S)
    directions = torch.stack((angles.cos(), angles.sin()), dim=-1)
    reach, _ = ray_cast(s.pos[i:i + 1, :a], directions, one, CONE_RANGE)
    return torch.where(self.elevated[i, :, None], CONE_RANGE, reach[0]).cpu()


def hud(self, i: int) -> str:
    c = self.config
    t = int(self.t[i])
    prep = max(c.prep_steps - t, 0)
    seen = self.see_agents[i, c.num_hiders:, :c.num_hiders].any()
    phase = f"prep {prep}" if prep else ("hiders seen" if bool(seen) else "hiders hidden")
    score = "" if prep else (" | hiders -1 seekers +1" if bool(seen) else " | hiders +1 seekers -1")
    return f"step {t}/{c.max_cycles} | {phase}{score}"
