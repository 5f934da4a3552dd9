"""Checkpoints: atomic save, validated load, and everything needed to resume bit-for-bit.

A checkpoint holds the networks, optimisers, normalisers, the update counter and global
step, the RNG states (torch CPU and CUDA) and the env's own state (worlds, clocks,
generator), so that N updates == N/2 updates, stop, resume, N/2 updates. Saving writes
a temporary file and renames it over the old one: a crash mid-save never leaves a
truncated checkpoint behind.
"""

from __future__ import annotations

import os
import pickle
import re
import zipfile
from typing import Any

import torch

LATEST = "latest.pt"
NUMBERED = re.compile(r"update_(\d+)\.pt")
"""the name of the copy kept of each saved checkpoint: update_<update, 6 digits>.pt"""


def checkpoint_dir(run_dir: str) -> str:
    return os.path.join(run_dir, "checkpoints")


def save_checkpoint(run_dir: str, payload: dict[str, Any], update: int) -> str:
    """Write ``checkpoints/latest.pt`` (and keep a numbered copy); return its path."""
    folder = checkpoint_dir(run_dir)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, LATEST)
    tmp = path + ".tmp"
    torch.save(payload, tmp)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    numbered = os.path.join(folder, f"update_{update:06d}.pt")
    if os.path.exists(numbered):
        os.remove(numbered)
    os.link(path, numbered)
    return path


def numbered_checkpoints(run_dir: str) -> dict[int, str]:
    """The numbered copies ``save_checkpoint`` kept in a run directory: update -> path (empty if none)."""
    folder = checkpoint_dir(run_dir)
    names = os.listdir(folder) if os.path.isdir(folder) else []
    return {int(m.group(1)): os.path.join(folder, name) for name in names if (m := NUMBERED.fullmatch(name))}


POLICY_KEYS = ("algo", "args", "update", "global_step", "actor", "policy_spec")


def save_policy(path: str, payload: dict[str, Any]) -> str:
    """Write only what acting needs (the policy's weights and how to build it, the run's arguments):
    a few hundred kB where a full checkpoint also holds optimisers and thousands of worlds. Such a file
    loads wherever a checkpoint does for evaluation and play (not for ``--resume``). Atomic, as above."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    torch.save({key: payload[key] for key in POLICY_KEYS if key in payload}, tmp)
    os.replace(tmp, path)
    return path


def resolve_checkpoint(path: str) -> str:
    """A run directory, its checkpoints folder, or a checkpoint file -> the checkpoint file."""
    if os.path.isdir(path):
        for candidate in (os.path.join(checkpoint_dir(path), LATEST), os.path.join(path, LATEST)):
            if os.path.isfile(candidate):
                return candidate
        raise FileNotFoundError(f"no checkpoint in {path!r}: expected {os.path.join(checkpoint_dir(path), LATEST)}")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint {path!r} does not exist")
    return path


def load_checkpoint(path: str, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load and validate a checkpoint; a damaged or foreign file is a ValueError naming it."""
    path = resolve_checkpoint(path)
    try:
        payload = torch.load(path, map_location=map_location, weights_only=False)
    except (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, ValueError) as err:
        raise ValueError(f"checkpoint {path!r} is corrupt or not a checkpoint: {err}") from None
    required = {"algo", "args", "update", "global_step", "actor"}
    if not isinstance(payload, dict) or not required <= set(payload):
        raise ValueError(f"checkpoint {path!r} is not a marl_envs baselines checkpoint (missing {sorted(required)})")
    return payload
