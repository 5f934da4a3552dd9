"""Optional dependencies: import one, or fail with the pip command of the extra that provides it.

The core install (``pip install marl-envs``) holds the envs and the training code; the command
lines, their progress bar, TensorBoard files, videos, plots, Ray and the sb3-contrib benchmark
need extras (pyproject.toml, ``[project.optional-dependencies]``). A missing one should say what to
install, not show a bare ``No module named 'tyro'`` from deep inside a run.
"""

from __future__ import annotations

import importlib
from types import ModuleType


class MissingExtra(ImportError):
    """An optional package is missing; the message names the extra that installs it."""


def install_hint(package: str, extra: str, feature: str) -> str:
    """The one-line message: what needs what, the pip command of the extra, and of the package alone."""
    return (f'{feature} needs {package}, which is not installed: pip install "marl-envs[{extra}]" '
            f"(or pip install {package})")


def require(module: str, extra: str, feature: str, package: str | None = None) -> ModuleType:
    """``importlib.import_module(module)``, or ``MissingExtra`` naming ``extra``.

    Args:
        module: the import name (``tyro``, ``imageio.v2``).
        extra: the extra of marl-envs that installs it (``train``, ``ray``...).
        feature: what needs it, as the user asked for it (``the training command lines``).
        package: the distribution name where it differs from the import's top level.
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        name = package or module.split(".")[0]
        raise MissingExtra(install_hint(name, extra, feature)) from error
