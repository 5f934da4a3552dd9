"""One spread_v0 episode through the PettingZoo parallel API with random actions, rendered to a window.

    python examples/random_rollout.py            # opens a pygame window
    python examples/random_rollout.py --headless # no window, prints the return
"""

import sys

from marl_envs import spread_v0

env = spread_v0.parallel_env(N=3, max_cycles=25, render_mode=None if "--headless" in sys.argv else "human")
observations, infos = env.reset(seed=42)
episode_return = 0.0
while env.agents:
    actions = {agent: env.action_space(agent).sample() for agent in env.agents}
    observations, rewards, terminations, truncations, infos = env.step(actions)
    episode_return += sum(rewards.values())
env.close()
print(f"team return: {episode_return:.2f}")
