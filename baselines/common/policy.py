"""The multi-agent policy of the PPO baselines (MAPPO, IPPO): one nn.Module, saved and loaded whole.

Parameter layouts (``--param-sharing``):

    all   one actor and one critic for every agent; their inputs end with the agent's one-hot id and,
          in team games, its team's one-hot (Baker et al. 2019 share all parameters across agents;
          cooperative envs have one team and get no team column, so their networks are unchanged)
    team  one actor and one critic per team (teams are agent-id prefixes, ``agent_teams``); a team's
          samples only ever reach its own networks, so one team's loss never moves the other's weights
    agent one actor per agent and one critic for all (HAPPO/HATRPO, Kuba et al. 2022: heterogeneous
          agents need their own policies; the critic estimates one state's value for the whole team,
          so sharing it loses nothing). ``groups`` are the actors' groups, ``critic_groups`` the critics'.

Networks (``--policy``): ``mlp`` (two hidden layers on the flat inputs) or ``entity`` (the
entity-attention network of Baker et al. 2019, ``common/entity.py``, built from the env's
``obs_spec`` and ``state_spec``; the critic falls back to the MLP on envs without a state layout).

Memory (``--recurrent``): every actor gets a GRU cell between its trunk and its head
(``common/recurrent.py``). The trainers' collectors carry each world's memory between steps and
rollouts; ``act`` carries its own, one per world, reset by ``reset_memory`` (callers do so when
episodes start) and started fresh when the number of worlds changes.

Value normalisation is per team in both layouts: in a zero-sum game the hiders' returns are the
seekers' with the sign flipped, so one running mean would sit near 0 and standardise neither.

Checkpoints store ``policy.spec`` (the constructor arguments) next to the weights, so evaluation,
``marl_envs.play``, cross-play and Ray workers rebuild any layout with::

    policy = build_policy_from_checkpoint(load_checkpoint(run_dir), env)      # (alias: load_policy)
    actions = policy.act(obs, state, deterministic=True)                      # (B, A, ...) for every agent
    hider_actions = policy.act(obs, state, True, agents=["hider_0", "hider_1"])  # (B, 2, ...) a subset

Tensors with an agent axis are (..., A, D); rows of a flattened batch are (N, D) with their agent
index (N,) passed as ``agent_idx``.
"""

from __future__ import annotations

from typing import Any

import torch
from gymnasium import spaces
from torch import nn
from torch.distributions import Distribution, Independent, Normal

from baselines.common.entity import EntityActor, EntityCritic
from baselines.common.networks import Actor, Critic, full_precision
from baselines.common.normalization import ValueNormalizer
from baselines.common.recurrent import RecurrentActor
from baselines.common.rollout import agent_teams

PARAM_SHARING = ("all", "team", "agent")
NETWORKS = ("mlp", "entity")


class MultiAgentPolicy(nn.Module):
    """Actors π_g(a | o_i, ids) and critics V_g(s, o_i, ids), one pair per parameter group g.

    Args:
        obs_dim, state_dim: per-agent observation and global state widths.
        agents: agent names (teams are their prefixes).
        action_space: every agent's action space.
        hidden_size, activation, feature_norm: the MLPs (``networks.mlp``).
        agent_id: append the one-hot agent id to both inputs.
        centralized: critic on [state, o_i, ids] (MAPPO); false: on [o_i, ids] (IPPO).
        critic_obs: with ``centralized``, whether the critic reads o_i: true, MAPPO's agent-specific global state
            [state, o_i, ids]; false, the env's state with the ids only, [state, ids] (MAPPO's environment-provided
            state; the ids keep the values per agent). Where the state holds everything the observations do
            (hide-and-seek's omniscient state), o_i repeats part of it, and leaving it out shrinks the critic's
            first layer, the largest matrix product of an update.
        value_norm: one ``ValueNormalizer`` per team.
        param_sharing: "all", "team" or "agent" (module docstring).
        team_onehot: append the team one-hot (default: with several teams in the "all" layout).
        network: "mlp" or "entity" (module docstring); "entity" needs ``obs_spec`` (and ``state_spec`` for
            an entity critic) and uses ``entity_width`` and ``entity_heads``.
        recurrent: a GRU memory in every actor (module docstring).
    """

    def __init__(self, obs_dim: int, state_dim: int, agents: list[str], action_space: spaces.Space, *,
                 hidden_size: int = 64, activation: str = "relu", feature_norm: bool = False, agent_id: bool = True,
                 centralized: bool = True, value_norm: bool = True, param_sharing: str = "all",
                 team_onehot: bool | None = None, network: str = "mlp", obs_spec=None, state_spec=None,
                 entity_width: int = 64, entity_heads: int = 2, recurrent: bool = False, critic_obs: bool = True):
        super().__init__()
        if not critic_obs and not centralized:
            raise ValueError("critic_obs=False (--no-critic-obs) leaves the critic only the state, which a "
                             "decentralised critic (IPPO) does not read: the critic would have no input")
        if not critic_obs and network == "entity":
            raise ValueError("critic_obs=False (--no-critic-obs) is for the MLP critic; the entity critic reads the "
                             "state's entities and the agent's own observation")
        if network not in NETWORKS:
            raise ValueError(f"network must be one of {NETWORKS}, got {network!r}")
        if network == "entity" and obs_spec is None:
            raise ValueError("network='entity' needs the env's obs_spec (an env that declares its observation layout)")
        if param_sharing not in PARAM_SHARING:
            raise ValueError(f"param_sharing must be one of {PARAM_SHARING}, got {param_sharing!r}")
        self.agents, self.teams = list(agents), agent_teams(list(agents))
        if team_onehot is None:
            team_onehot = len(self.teams) > 1 and param_sharing != "team"
        self.spec: dict[str, Any] = dict(
            obs_dim=obs_dim, state_dim=state_dim, agents=self.agents, action_space=action_space,
            hidden_size=hidden_size, activation=activation, feature_norm=feature_norm, agent_id=agent_id,
            centralized=centralized, value_norm=value_norm, param_sharing=param_sharing, team_onehot=team_onehot,
            network=network, obs_spec=obs_spec, state_spec=state_spec, entity_width=entity_width,
            entity_heads=entity_heads, recurrent=recurrent, critic_obs=critic_obs)
        self.num_agents, self.num_teams = len(self.agents), len(self.teams)
        self.agent_id, self.team_onehot, self.centralized = agent_id, team_onehot, centralized
        self.critic_obs = critic_obs
        everyone = [list(range(self.num_agents))]
        self.groups = {"all": everyone, "team": list(self.teams.values()),
                       "agent": [[i] for i in range(self.num_agents)]}[param_sharing]
        self.critic_groups = everyone if param_sharing == "agent" else self.groups
        team_of = torch.zeros(self.num_agents, dtype=torch.long)
        for t, members in enumerate(self.teams.values()):
            team_of[members] = t
        self.register_buffer("team_of", team_of, persistent=False)
        self.register_buffer("group_of", _index_of(self.groups, self.num_agents), persistent=False)
        self.register_buffer("critic_group_of", _index_of(self.critic_groups, self.num_agents), persistent=False)
        for kind, groups in (("actor", self.groups), ("critic", self.critic_groups)):  # on the policy's device
            for g, members in enumerate(groups):
                self.register_buffer(f"_{kind}_members_{g}", torch.tensor(members), persistent=False)
        ids = (self.num_agents if agent_id else 0) + (self.num_teams if team_onehot else 0)
        hidden = (hidden_size, hidden_size)
        critic_dim = (obs_dim if critic_obs else 0) + ids + (state_dim if centralized else 0)
        if network == "entity":
            self.actors = nn.ModuleList(EntityActor(obs_spec, action_space, ids, entity_width, entity_heads)
                                        for _ in self.groups)
        else:
            self.actors = nn.ModuleList(Actor(obs_dim + ids, action_space, hidden, activation, feature_norm)
                                        for _ in self.groups)
        self.recurrent = recurrent
        if recurrent:
            self.actors = nn.ModuleList(RecurrentActor(actor) for actor in self.actors)
        self.memory_size = self.actors[0].memory_size if recurrent else 0
        self._acting: tuple[torch.Tensor, torch.Tensor] | None = None  # act()'s (memory, first) per world
        if network == "entity" and (state_spec is not None or not centralized):
            self.critics = nn.ModuleList(EntityCritic(state_spec if centralized else None, obs_spec, ids,
                                                      entity_width, entity_heads) for _ in self.critic_groups)
        else:
            self.critics = nn.ModuleList(Critic(critic_dim, hidden, activation, feature_norm)
                                         for _ in self.critic_groups)
        self.value_norms = nn.ModuleList(ValueNormalizer() for _ in self.teams) if value_norm else None

    @property
    def num_groups(self) -> int:
        return len(self.groups)

    # -- inputs --------------------------------------------------------------------------
    def _ids(self, obs: torch.Tensor) -> torch.Tensor:
        """(..., A, ids): the agent one-hot, then the team one-hot."""
        parts = []
        if self.agent_id:
            parts.append(torch.eye(self.num_agents, device=obs.device, dtype=obs.dtype))
        if self.team_onehot:
            parts.append(torch.eye(self.num_teams, device=obs.device, dtype=obs.dtype)[self.team_of])
        ids = torch.cat(parts, -1)
        return ids.expand(*obs.shape[:-2], *ids.shape)

    def actor_input(self, obs: torch.Tensor) -> torch.Tensor:
        """(..., A, obs_dim) -> (..., A, actor_dim)."""
        return torch.cat([obs, self._ids(obs)], -1) if self.agent_id or self.team_onehot else obs

    def critic_input(self, obs: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """(..., A, obs_dim), (..., state_dim) -> (..., A, critic_dim): the agent-specific global state (or the state
        and the ids, without ``critic_obs``)."""
        parts = [obs] if self.critic_obs else []
        if self.centralized:
            parts.insert(0, state.unsqueeze(-2).expand(*obs.shape[:-1], state.shape[-1]))
        if self.agent_id or self.team_onehot:
            parts.append(self._ids(obs))
        return torch.cat(parts, -1)

    # -- per-group dispatch --------------------------------------------------------------
    def _dispatch(self, nets: list[nn.Module], x: torch.Tensor, agent_idx: torch.Tensor | None,
                  critics: bool = False) -> torch.Tensor:
        """Each group's network on its agents' slices of ``x``: agent axis -2 (``agent_idx`` None) or rows (N, D)
        with their agent indices. Outputs keep the layout: (..., A, k) or (N, k)."""
        groups, group_of = (self.critic_groups, self.critic_group_of) if critics else (self.groups, self.group_of)
        if len(groups) == 1:
            return nets[0](x)
        out = None
        for g in range(len(groups)):
            if agent_idx is None:  # the group's agents on the agent axis: no host sync
                idx, dim = getattr(self, f"_{'critic' if critics else 'actor'}_members_{g}"), x.dim() - 2
            else:
                idx, dim = (group_of[agent_idx] == g).nonzero().squeeze(-1), 0
            y = nets[g](x.index_select(dim, idx))
            if out is None:
                shape = list(y.shape)
                shape[dim] = x.shape[dim]
                out = y.new_zeros(shape)
            out = out.index_copy(dim, idx, y)
        return out

    def heads(self, actor_in: torch.Tensor, agent_idx: torch.Tensor | None = None):
        """(action-head outputs, per-sample log-std or None): what ``make_distribution`` needs."""
        if self.recurrent:
            raise ValueError("a recurrent policy acts with its memory: use recurrent_step (or act)")
        return self._dispatch([a.net for a in self.actors], actor_in, agent_idx), self._log_std(agent_idx)

    def _log_std(self, agent_idx: torch.Tensor | None) -> torch.Tensor | None:
        if not hasattr(self.actors[0], "log_std"):
            return None
        if self.num_groups == 1:
            return self.actors[0].log_std
        per_agent = torch.stack([self.actors[g].log_std for g in self.group_of.tolist()])  # (A, k)
        return per_agent if agent_idx is None else per_agent[agent_idx]

    # -- memory --------------------------------------------------------------------------
    def initial_memory(self, num_worlds: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(memory (B, A, W) zeros, first (B, A) all true): every agent is at an episode's first step."""
        device = self.team_of.device
        return (torch.zeros(num_worlds, self.num_agents, self.memory_size, device=device),
                torch.ones(num_worlds, self.num_agents, dtype=torch.bool, device=device))

    def recurrent_step(self, actor_in: torch.Tensor, memory: torch.Tensor, first: torch.Tensor,
                       agent_idx: torch.Tensor | None = None) -> tuple[Distribution, torch.Tensor]:
        """(π(· | x_≤t), memory after the step) for every agent (agent axis -2: actor_in (..., A, D), memory
        (..., A, W), first (..., A)) or every row (with ``agent_idx`` (N,)). ``first`` resets the memory."""
        lead = actor_in.shape[:-1]
        rows = torch.arange(self.num_agents, device=actor_in.device).expand(lead) if agent_idx is None else agent_idx
        x, h = actor_in.reshape(-1, actor_in.shape[-1]), memory.reshape(-1, self.memory_size)
        f, rows = first.reshape(-1), rows.reshape(-1)
        if self.num_groups == 1:
            out, h = self.actors[0].step(x, h, f)
        else:
            out, h = None, h.clone()
            for g in range(self.num_groups):
                sel = (self.group_of[rows] == g).nonzero().squeeze(-1)
                y, h_g = self.actors[g].step(x[sel], h[sel], f[sel])
                out = y.new_zeros(x.shape[0], y.shape[-1]) if out is None else out
                out[sel], h[sel] = y, h_g
        log_std = self._log_std(rows)
        if log_std is not None and log_std.dim() > 1:  # one per row (several groups): back to the input's layout
            log_std = log_std.view(*lead, -1)
        dist = self.make_distribution(out.view(*lead, -1), log_std)
        return dist, h.view(*lead, self.memory_size)

    def reset_memory(self, worlds: torch.Tensor | None = None) -> None:
        """Start new episodes in ``act``'s memory: every world (None) or the worlds given (indices or a (B,) mask).
        A no-op for feed-forward policies."""
        if self._acting is None:
            return
        if worlds is None:
            self._acting = None
        else:
            self._acting[1][worlds] = True

    def make_distribution(self, out: torch.Tensor, log_std: torch.Tensor | None) -> Distribution:
        out = full_precision(out)  # bfloat16 under --precision bf16: the distribution's arithmetic stays float32
        if log_std is None:
            return self.actors[0]._distribution(out)
        return Independent(Normal(out, log_std.exp().expand_as(out), validate_args=False), 1, validate_args=False)

    def distribution(self, actor_in: torch.Tensor, agent_idx: torch.Tensor | None = None) -> Distribution:
        """π(· | actor_in) for every agent (agent axis -2) or every row (with ``agent_idx``)."""
        return self.make_distribution(*self.heads(actor_in, agent_idx))

    def raw_value(self, critic_in: torch.Tensor, agent_idx: torch.Tensor | None = None) -> torch.Tensor:
        """Critic outputs (normalised units when value normalisation is on): (..., A) or (N,)."""
        return self._dispatch([c.net for c in self.critics], critic_in, agent_idx, critics=True).squeeze(-1).float()

    def team_index(self, agent_idx: torch.Tensor | None = None) -> torch.Tensor:
        """Team of each agent (A,) or of each row (N,)."""
        return self.team_of if agent_idx is None else self.team_of[agent_idx]

    def denormalize(self, raw: torch.Tensor, team: torch.Tensor) -> torch.Tensor:
        """Critic outputs -> values in return units, each with its team's statistics."""
        return self._per_team(raw, team, "denormalize")

    def normalize(self, returns: torch.Tensor, team: torch.Tensor) -> torch.Tensor:
        """Returns -> regression targets, each with its team's statistics."""
        return self._per_team(returns, team, "normalize")

    def _per_team(self, x: torch.Tensor, team: torch.Tensor, method: str) -> torch.Tensor:
        """``ValueNormalizer.<method>`` of ``x`` with the normaliser of each element's team (identity without)."""
        if self.value_norms is None:
            return x
        out = x
        for t, norm in enumerate(self.value_norms):
            out = torch.where(team == t, getattr(norm, method)(x), out)
        return out

    def value(self, critic_in: torch.Tensor, agent_idx: torch.Tensor | None = None):
        """(raw critic output, value in return units)."""
        raw = self.raw_value(critic_in, agent_idx)
        return raw, self.denormalize(raw, self.team_index(agent_idx))

    def group_parameters(self, g: int) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
        """(actor parameters, critic parameters) of group g: what its two optimisers own (layouts whose actors
        and critics are grouped alike: "all" and "team")."""
        if self.critic_groups is not self.groups:
            raise ValueError("the 'agent' layout has one critic for several actors: use actors[g] and critics[c]")
        return list(self.actors[g].parameters()), list(self.critics[g].parameters())

    # -- acting --------------------------------------------------------------------------
    def agent_indices(self, agents: list[str | int] | None) -> list[int]:
        if agents is None:
            return list(range(self.num_agents))
        return [a if isinstance(a, int) else self.agents.index(a) for a in agents]

    @torch.no_grad()
    def act(self, obs: torch.Tensor, state: torch.Tensor | None = None, deterministic: bool = False,
            agents: list[str | int] | None = None) -> torch.Tensor:
        """Actions (B, len(agents), ...) for ``agents`` (names or indices; default all) from the full
        observation (B, A, obs_dim). The actor never reads ``state``: it is accepted for a uniform player
        signature (cross-play)."""
        idx = self.agent_indices(agents)
        x = self.actor_input(obs)[:, idx]
        rows = torch.tensor(idx, device=obs.device).repeat(obs.shape[0])
        if self.recurrent:
            if self._acting is None or self._acting[0].shape[0] != obs.shape[0]:
                self._acting = self.initial_memory(obs.shape[0])
            memory, first = self._acting
            dist, h = self.recurrent_step(x.reshape(-1, x.shape[-1]), memory[:, idx].reshape(-1, self.memory_size),
                                          first[:, idx].reshape(-1), rows)
            memory[:, idx], first[:, idx] = h.view(obs.shape[0], len(idx), -1), False
        else:
            dist = self.distribution(x.reshape(-1, x.shape[-1]), rows)
        action = Actor.deterministic(dist) if deterministic else dist.sample()
        return action.reshape(obs.shape[0], len(idx), *action.shape[1:])


def _index_of(groups: list[list[int]], num_agents: int) -> torch.Tensor:
    """(A,) the index of each agent's group."""
    index = torch.zeros(num_agents, dtype=torch.long)
    for g, members in enumerate(groups):
        index[members] = g
    return index


def policy_from_args(env, args) -> MultiAgentPolicy:
    """The policy a MAPPO/IPPO/HAPPO/HATRPO run trains, from the env's spaces and the run's arguments."""
    return MultiAgentPolicy(
        env.single_observation_space.shape[0], env.state_space.shape[0], list(env.agents), env.single_action_space,
        hidden_size=args.hidden_size, activation=args.activation, feature_norm=args.feature_norm,
        agent_id=args.agent_id, centralized=args.centralized_critic, value_norm=args.value_norm,
        param_sharing=getattr(args, "param_sharing", "all"), network=getattr(args, "policy", "mlp"),
        obs_spec=getattr(env, "obs_spec", None), state_spec=getattr(env, "state_spec", None),
        recurrent=getattr(args, "recurrent", False), critic_obs=getattr(args, "critic_obs", True))


def _env_spaces(env) -> tuple[list[str], Any, Any, int]:
    """(agents, observation space, action space, state width or 0) of a batched or PettingZoo parallel env."""
    agents = list(getattr(env, "possible_agents", None) or env.agents)
    if hasattr(env, "single_observation_space"):
        obs_space, action_space = env.single_observation_space, env.single_action_space
    else:
        obs_space, action_space = env.observation_space(agents[0]), env.action_space(agents[0])
    state_space = getattr(env, "state_space", None)
    return agents, obs_space, action_space, (state_space.shape[0] if state_space is not None else 0)


def _legacy(payload: dict, env) -> tuple[dict, dict]:
    """Checkpoints from before ``policy_spec``: one actor/critic pair, agent ids, one value normaliser."""
    if env is None:
        raise ValueError("this checkpoint predates policy_spec: pass the env to rebuild its policy")
    args = payload["args"]
    agents, obs_space, action_space, state_dim = _env_spaces(env)
    spec = dict(obs_dim=obs_space.shape[0], state_dim=state_dim, agents=agents, action_space=action_space,
                hidden_size=args["hidden_size"], activation=args.get("activation", "relu"),
                feature_norm=args.get("feature_norm", True), agent_id=bool(args.get("agent_id", False)),
                centralized=bool(args.get("centralized_critic", True)), value_norm=bool(args.get("value_norm", True)),
                param_sharing="all", team_onehot=False)
    renames = {"actor.": "actors.0.", "critic.": "critics.0."}
    weights = {}
    for key, value in payload["actor"].items():
        if key.startswith("value_norm."):
            for t in range(len(agent_teams(agents))):
                weights[f"value_norms.{t}." + key[len("value_norm."):]] = value
            continue
        prefix = next((p for p in renames if key.startswith(p)), None)
        weights[renames[prefix] + key[len(prefix):] if prefix else key] = value
    return spec, weights


def build_policy_from_checkpoint(payload: dict, env=None) -> MultiAgentPolicy:
    """The trained policy of a MAPPO/IPPO checkpoint, in eval mode, on the device of its weights.

    ``env`` (batched or PettingZoo parallel) is read for checkpoints older than ``policy_spec`` and to check
    that the policy fits it (observation width, number of agents): a ValueError otherwise.
    """
    spec, weights = (payload["policy_spec"], payload["actor"]) if "policy_spec" in payload else _legacy(payload, env)
    if env is not None:
        agents, obs_space, _, _ = _env_spaces(env)
        if obs_space.shape[0] != spec["obs_dim"] or len(agents) != len(spec["agents"]):
            raise ValueError(f"the checkpoint's policy does not fit this env: it was trained with obs_dim "
                             f"{spec['obs_dim']} and {len(spec['agents'])} agents, the env has obs_dim "
                             f"{obs_space.shape[0]} and {len(agents)} agents")
    policy = MultiAgentPolicy(**spec)
    try:
        policy.load_state_dict(weights)
    except RuntimeError as err:
        raise ValueError(f"the checkpoint's weights do not fit its policy: {str(err).splitlines()[0]}") from None
    device = next(iter(weights.values())).device if weights else torch.device("cpu")
    return policy.to(device).eval()


load_policy = build_policy_from_checkpoint
"""Alias used by ``baselines.crossplay``."""
