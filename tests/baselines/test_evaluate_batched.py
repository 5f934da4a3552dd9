"""``baselines.evaluate`` on our envs plays its episodes in batched worlds: the same episodes as one PettingZoo
episode after another, each world's first episode only, any number of rounds."""

import pytest

from baselines import evaluate as ev
from baselines import mappo
from baselines.common.checkpoint import load_checkpoint

pytestmark = pytest.mark.usefixtures("one_torch_thread")

KWARGS = '{"max_cycles": 8}'


@pytest.fixture(scope="module")
def runs(tmp_path_factory, one_torch_thread):
    root = tmp_path_factory.mktemp("runs")
    out = {}
    for env_id in ("transport_v0", "spread_v0"):
        args = mappo.Args(env_id=env_id, env_kwargs=KWARGS, num_envs=4, num_steps=8, total_timesteps=64, seed=0,
                          run_dir=str(root / env_id), progress=False, tensorboard=False, device="cpu")
        out[env_id] = mappo.train(args).run_dir
    return out


@pytest.mark.parametrize("env_id", ["transport_v0", "spread_v0"])
def test_one_world_at_a_time_plays_the_pettingzoo_paths_episodes(runs, env_id):
    payload = load_checkpoint(runs[env_id])
    env = ev.make_parallel_env(env_id, None, max_cycles=8)
    one_by_one = ev._episodes_multi_agent(payload, env, 6, 3, False, None)
    env.close()
    batched = ev._episodes_batched(payload, env_id, {"max_cycles": 8}, 6, 3, False, 1, "cpu")
    assert batched["returns"] == pytest.approx(one_by_one["returns"], abs=1e-4)
    assert batched.get("success_rate") == one_by_one.get("success_rate")


def test_batched_evaluation_counts_every_episode_once_over_rounds_and_repeats_with_its_seed(runs):
    first = ev.evaluate(runs["transport_v0"], episodes=7, seed=5, batch=3)
    again = ev.evaluate(runs["transport_v0"], episodes=7, seed=5, batch=3)
    assert len(first["returns"]) == 7 and first["episodes"] == 7
    assert first["returns"] == again["returns"]
    assert 0.0 <= first["success_rate"] <= 1.0
    assert len(ev.evaluate(runs["transport_v0"], episodes=7, seed=5, batch=7)["returns"]) == 7


def test_batch_below_one_is_refused(runs, capsys):
    with pytest.raises(SystemExit):
        ev.main([runs["spread_v0"], "--batch", "0"])
    assert "--batch must be >= 1" in capsys.readouterr().err
