"""How a command line names itself in ``--help`` and in the commands it prints.

Started as ``python -m baselines.mappo``, ``sys.argv[0]`` is the path of ``mappo.py``, and argparse
and tyro would print ``usage: /home/.../baselines/mappo.py``: a command nobody can type. Started
through its console script (``marl-mappo``, pyproject.toml ``[project.scripts]``), the script's name
is the command.
"""

from __future__ import annotations

import os
import sys


def prog_name(module: str, argv0: str | None = None) -> str:
    """``marl-mappo`` when run as that console script, else ``python -m <module>``.

    Args:
        module: the module that holds ``main`` (``baselines.mappo``; ``__main__`` is resolved).
        argv0: the program path (default ``sys.argv[0]``).
    """
    argv0 = sys.argv[0] if argv0 is None and sys.argv else (argv0 or "")
    name = os.path.basename(argv0)
    if name.startswith("marl-") and not name.endswith(".py"):
        return name
    if module == "__main__":  # classes defined in the module run by ``python -m``: its real name
        spec = getattr(sys.modules["__main__"], "__spec__", None)
        module = spec.name if spec is not None else name
    return f"python -m {module}"
