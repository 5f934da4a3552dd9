"""Shared pieces of every baseline: GAE, networks, normalisers, rollout storage, logging, checkpoints."""
