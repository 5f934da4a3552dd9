"""MkDocs hook: the parts of the site that are read from the code at build time, so they cannot drift.

- ``<!-- spaces: ENV_ID -->`` becomes the env's spaces, built from the env itself with its default
  arguments: agents, each agent's action and observation space, the global state space, the named
  observation blocks of the batched env (``obs_spec``), render metadata and the arguments with their
  defaults (the scenario's ``Config`` dataclass).
- ``<!-- cli: MODULE -->`` becomes the output of ``python -m MODULE --help``.
- ``assets/*.gif|png`` of the repository are copied into the site under ``assets/``, so the pages show
  the same files README shows on GitHub (one copy of each image, in ``assets/``).

Registered in mkdocs.yml (``hooks:``); mkdocstrings renders the docstrings themselves.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import subprocess
import sys
from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[2]
ASSET_SUFFIXES = (".gif", ".png")
DIRECTIVE = re.compile(r"<!--\s*(spaces|cli):\s*([\w.]+)\s*-->")


def on_files(files, config):
    """Add the repository's images to the site, under the same ``assets/`` path README uses."""
    for path in sorted((ROOT / "assets").iterdir()):
        if path.suffix in ASSET_SUFFIXES:
            files.append(File.generated(config, f"assets/{path.name}", abs_src_path=str(path)))
    return files


def on_page_markdown(markdown, page, config, files):
    """Expand the directives of one page."""

    def expand(match: re.Match) -> str:
        kind, name = match.groups()
        return spaces_table(name) if kind == "spaces" else cli_help(name)

    return DIRECTIVE.sub(expand, markdown)


def _code(text: str) -> str:
    return f"`{text}`"


@functools.cache
def spaces_table(env_id: str) -> str:
    """Markdown tables of the env's spaces and arguments, read from the env built with its defaults."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import marl_envs
    from marl_envs.pettingzoo_registration import pettingzoo_id
    from marl_envs.registry import get_scenario_class

    env = getattr(marl_envs, env_id).parallel_env()
    env.reset(seed=0)
    rows = []  # consecutive agents with the same spaces share a row, as PettingZoo's tables do
    for agent in env.possible_agents:
        spaces = (str(env.action_space(agent)), str(env.observation_space(agent)))
        if rows and rows[-1][1] == spaces:
            rows[-1][0].append(agent)
        else:
            rows.append(([agent], spaces))
    lines = ["| agents | action space | observation space |", "|---|---|---|"]
    for agents, (action, observation) in rows:
        names = agents[0] if len(agents) == 1 else f"{agents[0]} … {agents[-1]}"
        lines.append(f"| {_code(names)} | {_code(action)} | {_code(observation)} |")
    lines += ["", "| property | value |", "|---|---|",
              f"| import | `from marl_envs import {env_id}` |",
              f"| PettingZoo | `pettingzoo.make(\"parallel\", \"{pettingzoo_id(env_id)}\")` |",
              f"| agents | {len(env.possible_agents)}: {', '.join(_code(a) for a in env.possible_agents)} |",
              f"| state space (`env.state()`) | {_code(str(env.state_space))} |",
              f"| render modes | {', '.join(_code(m) for m in env.metadata['render_modes'])} "
              f"at {env.metadata['render_fps']} fps |"]
    batched = marl_envs.make_batched(env_id, num_envs=1)
    blocks = batched.obs_spec.slices() if batched.obs_spec is not None else {}
    if blocks:
        lines += ["", "Observation blocks (`make_batched(...).obs_spec.slices()`, default arguments):", "",
                  "| block | slice | size |", "|---|---|---|"]
        lines += [f"| {_code(name)} | {s.start}:{s.stop} | {s.stop - s.start} |" for name, s in blocks.items()]
    config = get_scenario_class(env_id).config_cls()
    lines += ["", "Arguments (keyword arguments of every constructor; `make_batched(..., **kwargs)` too):", "",
              "| argument | default |", "|---|---|"]
    lines += [f"| {_code(f.name)} | {_code(repr(getattr(config, f.name)))} |" for f in dataclasses.fields(config)]
    env.close()
    return "\n".join(lines) + "\n"


@functools.cache
def cli_help(module: str) -> str:
    """``python -m MODULE --help`` in a code block, 100 columns wide."""
    env = {**os.environ, "COLUMNS": "100", "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "TERM": "dumb", "NO_COLOR": "1"}
    out = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, check=True,
                         env=env, cwd=ROOT, timeout=120).stdout
    return f"```text\n{out.rstrip()}\n```\n"
