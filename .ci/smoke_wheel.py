"""Smoke test of an installed wheel, run by .ci/run from outside the source tree.

``python smoke_wheel.py core``: the core install (``pip install marl-envs``): every env made through
PettingZoo's registry and through its module, stepped once, on the batched API too; rendering says
which extra to install. ``python smoke_wheel.py train`` (after ``pip install "marl-envs[train]"``): one
rgb_array frame per env, rendered headless. A missing package marker or data file fails here, where the
editable install of the test suite would not notice it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # no display in CI


def main(stage: str) -> None:
    import numpy as np
    import pettingzoo

    import marl_envs
    from marl_envs.pettingzoo_registration import pettingzoo_id

    here = Path(marl_envs.__file__).resolve()
    assert "site-packages" in here.parts, f"marl_envs imported from {here}, not from the installed wheel"
    for env_id in marl_envs.list_envs():
        env = pettingzoo.make("parallel", pettingzoo_id(env_id), render_mode="rgb_array")
        observations, _ = env.reset(seed=0)
        env.step({agent: env.action_space(agent).sample() for agent in env.agents})
        assert set(observations) == set(env.possible_agents)
        module_env = getattr(marl_envs, env_id).parallel_env()
        module_env.reset(seed=1)
        batched = marl_envs.make_batched(env_id, num_envs=4, seed=0)
        obs, _ = batched.reset()
        assert obs.shape[:2] == (4, batched.num_agents)
        if stage == "core":
            try:
                env.render()
            except Exception as error:  # ImportError, or gymnasium's DependencyNotInstalled (not a subclass)
                assert 'marl-envs[render]' in str(error), error
            else:
                raise AssertionError("rendered without pygame: the core install should not bring it")
        else:
            frame = env.render()
            assert isinstance(frame, np.ndarray) and frame.ndim == 3 and frame.shape[2] == 3 and frame.any()
        env.close()
        print(f"{stage}: {env_id} ok ({pettingzoo_id(env_id)}, obs {obs.shape[2]})")
    print(f"smoke test ({stage}) passed from {here.parent}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "train")
