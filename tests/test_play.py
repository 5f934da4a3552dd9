"""marl_envs.play: keys become actions in every action space; the loop runs headless on posted key events."""

from importlib import metadata

import numpy as np
import pytest
import torch

from marl_envs import policies
from marl_envs.play import PLAYER_COLOR, Intent, Play, keyboard_action, main
from marl_envs.scenarios.specs import ActionSpec

pygame = pytest.importorskip("pygame")


def post(key, up=False):
    pygame.event.post(pygame.event.Event(pygame.KEYUP if up else pygame.KEYDOWN, key=key))


@pytest.fixture
def display():
    pygame.display.init()  # the dummy SDL driver (tests/conftest.py): no window, real event queue
    pygame.event.clear()
    yield
    pygame.display.quit()


def test_keyboard_actions_in_each_action_space():
    mpe = ActionSpec("discrete", n=5)
    assert [int(keyboard_action(Intent(x, y), mpe)) for x, y in [(0, 0), (-1, 0), (1, 1), (0, -1), (0, 1)]] == \
        [0, 1, 2, 3, 4]  # MPE order; x wins over y
    cont = ActionSpec("continuous", shape=(5,), low=0.0, high=1.0)
    assert keyboard_action(Intent(x=1, y=-1), cont).tolist() == [0.0, 0.0, 1.0, 1.0, 0.0]
    hns = ActionSpec("multi_discrete", nvec=(11, 11, 11, 2, 2))
    assert keyboard_action(Intent(), hns).tolist() == [5, 5, 5, 0, 0]
    assert keyboard_action(Intent(x=-1, y=1, turn=1, grab=True, lock=True), hns).tolist() == [0, 10, 10, 1, 1]


def test_right_arrow_moves_the_driven_agent_right_and_tab_switches_agent(display):
    play = Play("spread_v0", others="random", render_mode="rgb_array", fps=1000)
    start = play.env.scenario.world.state.pos[0, 0].clone()
    post(pygame.K_RIGHT)
    play.run_events(8)
    moved = play.env.scenario.world.state.pos[0, 0] - start
    assert moved[0] > 0.3 and abs(moved[1]) < 1e-6  # 8 steps pushing +x, nothing else acts on agent 0
    post(pygame.K_RIGHT, up=True)
    post(pygame.K_TAB)
    play.run_events(1)
    assert play.controlled == 1
    frame = play.last_frame
    gold = np.array([round(c * 255) for c in PLAYER_COLOR])
    assert (np.abs(frame.astype(int) - gold).sum(-1) <= 3).sum() > 50  # the driven agent is drawn in gold
    play.close()


def test_reset_pause_and_escape(display):
    play = Play("transport_v0", others="scripted", render_mode="rgb_array", fps=1000)
    play.run_events(5)
    assert play.steps == 5
    post(pygame.K_r)
    play.run_events(1)
    assert play.steps == 1  # reset, then one step
    post(pygame.K_p)
    play.run_events(3)
    assert play.steps == 1 and "[paused]" in play.hud()
    post(pygame.K_p)
    play.run_events(200)  # the 200-step episode ends: its return stays on the HUD
    assert play.last_episode is not None and "last episode  agent" in play.hud()
    post(pygame.K_ESCAPE)
    assert not play.run_events(100)  # quits at once
    play.close()


def test_hide_and_seek_hud_shows_prep_and_who_sees_whom(display):
    play = Play("hide_and_seek_v1", agent="seeker_0", others="scripted", render_mode="rgb_array", fps=1000)
    post(pygame.K_SPACE)
    play.run_events(3)
    hud = play.hud(play.env.snapshot(0).hud)
    assert "you: seeker_0" in hud and "prep" in hud and "sees:" in hud and "hider" in hud
    assert play.keys.intent().grab  # space is held until released
    play.close()


def test_cli_runs_headless_for_a_few_frames(display, capsys):
    main(["transport_v0", "--others", "random", "--max-steps", "3", "--fps", "1000", "--env-kwargs", '{"N": 2}'])
    assert "Tab" in capsys.readouterr().out


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="unknown agent"):
        Play("spread_v0", agent="agent_9", render_mode="rgb_array")
    with pytest.raises(ValueError, match="others"):
        Play("spread_v0", others="nobody", render_mode="rgb_array")
    with pytest.raises(SystemExit):
        main(["not_an_env"])


@pytest.fixture(scope="module")
def mappo_run(tmp_path_factory):
    """A tiny MAPPO run on 2-agent transport (20 env steps)."""
    from baselines import mappo

    run_dir = tmp_path_factory.mktemp("play") / "run"
    mappo.train(mappo.Args(env_id="transport_v0", env_kwargs='{"N": 2}', num_envs=4, num_steps=5, update_epochs=1,
                           total_timesteps=20, progress=False, tensorboard=False, torch_threads=1,
                           run_dir=str(run_dir)))
    return str(run_dir)


@pytest.fixture
def no_loaders(monkeypatch):
    """A process where no package offers a policy loader (none installed, none registered)."""
    monkeypatch.setattr(policies, "_REGISTERED", {})
    monkeypatch.setattr(policies, "_entry_points", lambda: [])


def test_teammates_from_a_trained_checkpoint(display, mappo_run, no_loaders):
    from baselines.play import load_policy

    policies.register_policy_loader("baselines", load_policy)
    play = Play("transport_v0", checkpoint=mappo_run, render_mode="rgb_array", fps=1000, N=2)
    assert play.others == "checkpoint"
    greedy = play._policy(play.obs)
    assert greedy.shape == (1, 2) and torch.equal(greedy, play._policy(play.obs))  # deterministic actions
    play.run_events(3)
    assert play.steps == 3
    play.close()
    with pytest.raises(ValueError, match="IPPO/MAPPO"):
        Play("transport_v0", others="checkpoint", render_mode="rgb_array")


def test_baselines_play_runs_the_play_cli_with_its_checkpoints(display, mappo_run, no_loaders, capsys):
    from baselines.play import main as baselines_play

    baselines_play(["transport_v0", "--checkpoint", mappo_run, "--max-steps", "3", "--fps", "1000",
                    "--env-kwargs", '{"N": 2}'])
    assert "Tab" in capsys.readouterr().out
    assert policies.policy_loader_names() == ["baselines"]


def test_a_checkpoint_without_any_policy_loader_says_what_to_install(no_loaders, mappo_run, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["transport_v0", "--checkpoint", mappo_run, "--env-kwargs", '{"N": 2}'])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "no trained-policy loader is installed" in err and "baselines" in err and "pip install" in err


def constant_loader(checkpoint, env):
    """A loader of a third-party package: every agent takes action 0 (the test's stand-in)."""
    return lambda obs: torch.zeros(obs.shape[:2], dtype=torch.long)


def test_installed_entry_point_loaders_are_found_and_chosen_by_name(display, no_loaders, monkeypatch):
    entry = metadata.EntryPoint("mine", "tests.test_play:constant_loader", policies.GROUP)
    monkeypatch.setattr(policies, "_entry_points", lambda: [entry])
    play = Play("spread_v0", checkpoint="any/run", render_mode="rgb_array", fps=1000)
    assert torch.equal(play._policy(play.obs), torch.zeros(1, 3, dtype=torch.long))
    play.close()
    policies.register_policy_loader("other", constant_loader)
    with pytest.raises(ValueError, match="several policy loaders"):
        Play("spread_v0", checkpoint="any/run", render_mode="rgb_array")
    with pytest.raises(ValueError, match="unknown policy loader"):
        Play("spread_v0", checkpoint="any/run", policy_loader="nope", render_mode="rgb_array")


def test_any_callable_drives_the_other_agents(display):
    calls = []

    def policy(obs):
        calls.append(obs.shape)
        return torch.full((1, 3), 2)  # everyone pushes +x

    play = Play("spread_v0", policy=policy, render_mode="rgb_array", fps=1000)
    start = play.env.scenario.world.state.pos[0, 1].clone()
    play.run_events(4)
    assert play.others == "policy" and calls == [(1, 3, 18)] * 4
    assert play.env.scenario.world.state.pos[0, 1, 0] > start[0]
    play.close()
    with pytest.raises(ValueError, match="not both"):
        Play("spread_v0", policy=policy, checkpoint="run", render_mode="rgb_array")
