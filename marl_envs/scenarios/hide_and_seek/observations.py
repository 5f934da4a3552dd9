"""The observation layout of hide_and_seek_v1, declared once, and the functions that fill it.

An agent's observation is flat (gymnasium ``Box``) so that any library can consume it, and its
``ObsSpec`` names every block, so entity-based policies (the paper's attention network) can
slice out the entity blocks and their visibility masks instead of parsing strings. Entities
an agent cannot see have their block zeroed and their mask 0; ``global_state`` sees everything.

Frames: own position and velocity in the world frame; other entities' positions relative to
the observer (world axes), velocities in the world frame; headings as (cos, sin).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from marl_envs.physics import accel
from marl_envs.scenarios.specs import ObsBlock, ObsSpec

SELF = 10
OTHER = 8
OBJECT = 10
AGENT_STATE = 9
OBJECT_STATE = 11


def obs_spec(num_agents: int, num_boxes: int, num_ramps: int, lidar_rays: int) -> ObsSpec:
    """The per-agent layout (block sizes as in the module docstring)."""
    others = num_agents - 1
    blocks = [
        ObsBlock("self", SELF, 1, "pos (2), vel (2), heading cos/sin (2), team (0 hider, 1 seeker), prep left "
                 "(fraction), elevated, holding"),
        ObsBlock("agents", OTHER, others, "other agents in id order: rel pos (2), vel (2), heading (2), team, "
                 "elevated; zero if unseen"),
        ObsBlock("agents_mask", 1, others, "1 where that agent is visible"),
        ObsBlock("boxes", OBJECT, num_boxes, "rel pos (2), vel (2), heading (2), half size (2), locked by my team, "
                 "locked by the other team; zero if unseen"),
        ObsBlock("boxes_mask", 1, num_boxes, "1 where that box is visible"),
        ObsBlock("ramps", OBJECT, num_ramps, "as boxes; a ramp rises along its heading"),
        ObsBlock("ramps_mask", 1, num_ramps, "1 where that ramp is visible"),
    ]
    if lidar_rays:
        blocks.append(ObsBlock("lidar", 1, lidar_rays, "distance / range of ray r at heading + 2 pi r / R"))
    return ObsSpec(tuple(b for b in blocks if b.width))


def state_dim(num_agents: int, num_objects: int) -> int:
    return AGENT_STATE * num_agents + OBJECT_STATE * num_objects + 2


def state_spec(num_agents: int, num_objects: int) -> ObsSpec:
    """The layout of ``global_state`` (every entity unmasked; objects are boxes then ramps)."""
    blocks = (
        ObsBlock("agents", AGENT_STATE, num_agents, "pos (2), vel (2), heading cos/sin (2), team (0 hider, "
                 "1 seeker), elevated, holding; world frame"),
        ObsBlock("objects", OBJECT_STATE, num_objects, "pos (2), vel (2), heading (2), half size (2), locked by "
                 "hiders, locked by seekers, present; boxes then ramps"),
        ObsBlock("time", 2, 1, "prep left, time left (fractions)"),
    )
    return ObsSpec(tuple(b for b in blocks if b.width))


@dataclass
class Scene:
    """What the observation functions read: one step's state, as (B, ...) tensors.

    Objects are boxes then ramps (K + Q of them, ``num_boxes`` boxes first).
    """

    agent_pos: torch.Tensor  # (B, A, 2)
    agent_vel: torch.Tensor  # (B, A, 2)
    agent_angle: torch.Tensor  # (B, A)
    team: torch.Tensor  # (A,) float 0 hider / 1 seeker
    elevated: torch.Tensor  # (B, A) bool
    holding: torch.Tensor  # (B, A) bool
    prep_left: torch.Tensor  # (B,) fraction of the preparation phase left
    time_left: torch.Tensor  # (B,) fraction of the episode left
    obj_pos: torch.Tensor  # (B, K + Q, 2)
    obj_vel: torch.Tensor  # (B, K + Q, 2)
    obj_angle: torch.Tensor  # (B, K + Q)
    obj_half: torch.Tensor  # (K + Q, 2)
    lock_team: torch.Tensor  # (B, K + Q) long, -1 none
    present: torch.Tensor  # (B, K + Q) bool
    num_boxes: int


def heading(angle: torch.Tensor) -> torch.Tensor:
    return torch.stack((torch.cos(angle), torch.sin(angle)), dim=-1)


def observe(scene: Scene, see_agents: torch.Tensor, see_objects: torch.Tensor, others: torch.Tensor,
            lidar: torch.Tensor | None) -> torch.Tensor:
    """(B, A, obs_dim) observations in ``obs_spec`` order.

    Args:
        scene: the step's state.
        see_agents: (B, A, A) bool, viewer x target.
        see_objects: (B, A, K + Q) bool.
        others: (A, A - 1) long, the other agents of each agent in id order.
        lidar: (B, A, R) normalised distances, or None.
    """
    native = accel.kernel("hide_and_seek_observe", scene.agent_pos)
    if native is not None:  # one loop per world writes each row (``hide_and_seek.kernels.observations``)
        return native(scene, see_agents, see_objects, others, lidar)
    b, a = scene.agent_angle.shape
    team = scene.team.view(1, a).expand(b, a)
    head = heading(scene.agent_angle)
    flags = torch.stack((team, scene.prep_left.view(b, 1).expand(b, a), scene.elevated.float(),
                         scene.holding.float()), dim=-1)
    own = torch.cat((scene.agent_pos, scene.agent_vel, head, flags), dim=-1)
    rel = scene.agent_pos.unsqueeze(1) - scene.agent_pos.unsqueeze(2)  # (B, viewer, target, 2)
    target = torch.cat((scene.agent_vel, head, team.unsqueeze(-1), scene.elevated.float().unsqueeze(-1)), dim=-1)
    agents = torch.cat((rel, target.unsqueeze(1).expand(b, a, a, -1)), dim=-1)
    index = others.view(1, a, -1, 1)
    agents = torch.gather(agents, 2, index.expand(b, a, a - 1, OTHER))
    agents_mask = torch.gather(see_agents, 2, others.view(1, a, -1).expand(b, a, a - 1)).float()
    objects = _objects(scene, see_objects)
    objects_mask = see_objects.float()
    k = scene.num_boxes
    parts = [own, (agents * agents_mask.unsqueeze(-1)).flatten(2), agents_mask,
             objects[:, :, :k].flatten(2), objects_mask[:, :, :k], objects[:, :, k:].flatten(2),
             objects_mask[:, :, k:]]
    if lidar is not None:
        parts.append(lidar)
    return torch.cat(parts, dim=-1)


def _objects(scene: Scene, see_objects: torch.Tensor) -> torch.Tensor:
    """(B, A, K + Q, OBJECT) object blocks from each agent's view, zeroed where unseen."""
    b, a = scene.agent_angle.shape
    m = scene.obj_angle.shape[1]
    rel = scene.obj_pos.unsqueeze(1) - scene.agent_pos.unsqueeze(2)  # (B, A, M, 2)
    fixed = torch.cat((scene.obj_vel, heading(scene.obj_angle), scene.obj_half.expand(b, m, 2)), dim=-1)
    team = scene.team.view(1, a, 1)
    locked = scene.lock_team.unsqueeze(1) >= 0  # (B, 1, M)
    mine = locked & (scene.lock_team.unsqueeze(1).float() == team)
    theirs = locked & ~mine
    out = torch.cat((rel, fixed.unsqueeze(1).expand(b, a, m, -1), mine.float().unsqueeze(-1),
                     theirs.float().unsqueeze(-1)), dim=-1)
    return out * see_objects.unsqueeze(-1)


def global_state(scene: Scene) -> torch.Tensor:
    """(B, state_dim): every agent and object unmasked, then prep left and time left."""
    native = accel.kernel("hide_and_seek_state", scene.agent_pos)
    if native is not None:  # one loop per world writes each row (``hide_and_seek.kernels.observations``)
        return native(scene)
    b, a = scene.agent_angle.shape
    team = scene.team.view(1, a, 1).expand(b, a, 1)
    agents = torch.cat((scene.agent_pos, scene.agent_vel, heading(scene.agent_angle), team,
                        scene.elevated.float().unsqueeze(-1), scene.holding.float().unsqueeze(-1)), dim=-1)
    m = scene.obj_angle.shape[1]
    lock = torch.stack((scene.lock_team == 0, scene.lock_team == 1, scene.present), dim=-1).float()
    objects = torch.cat((scene.obj_pos, scene.obj_vel, heading(scene.obj_angle), scene.obj_half.expand(b, m, 2),
                         lock), dim=-1)
    return torch.cat((agents.flatten(1), objects.flatten(1), scene.prep_left.view(b, 1),
                      scene.time_left.view(b, 1)), dim=-1)
