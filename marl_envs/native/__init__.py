"""Fused CPU kernels (numba) for the queries that dominate a large CPU batch.

``physics`` (contacts, integration and grab joints of every substep), ``lidar`` and ``sight``
(vision) compute what the torch core computes, term for term, a block of worlds at a time
while it sits in the L1 cache. ``marl_envs/__init__.py`` registers them with
``marl_envs.physics.accel``, which runs them in place of the torch reference on CPU float32
tensors; ``MARL_ENVS_NATIVE=0`` turns them off. tests/native checks them against the reference.

The first call of each kernel in a fresh install compiles it (about 15 s for the physics,
a few seconds for the sensors); numba caches the machine code on disk for later processes.
"""
