"""The documentation's generated parts read the code, so they show what the code does.

The full strict build runs in CI (.ci/run: ``mkdocs build --strict``); these check the hook that fills the
env pages and the command-line pages, and that README and the home page share their text instead of copying it.
"""

import importlib.util
import re
from pathlib import Path

import pytest

pytest.importorskip("mkdocs")
ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("docs_hook", ROOT / "docs" / "_hooks" / "generated.py")
hook = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hook)


def test_the_spaces_table_is_read_from_the_env():
    from marl_envs import hide_and_seek_v1

    env = hide_and_seek_v1.parallel_env()
    table = hook.spaces_table("hide_and_seek_v1")
    assert f"`{env.observation_space('hider_0')}`" in table and "(100,)" in table
    assert "| `hider_0 … seeker_1` | `MultiDiscrete([11 11 11  2  2])`" in table
    assert '"marl_envs/hide-and-seek-v1"' in table and "| `lidar` | 70:100 | 30 |" in table
    assert "| `prep_fraction` | `0.4` |" in table


def test_directives_expand_and_other_text_is_left_alone():
    page = "intro\n<!-- spaces: spread_v0 -->\n<!-- cli: baselines.npg -->\n<!-- a comment -->\n"
    out = hook.on_page_markdown(page, None, None, None)
    assert out.startswith("intro\n| agents |") and "<!-- a comment -->" in out
    assert "```text\nusage: python -m baselines.npg" in out and "--variant" in out


def test_every_env_has_a_page_with_its_gif_and_spaces():
    from marl_envs import list_envs

    for env_id in list_envs():
        page = (ROOT / "docs" / "envs" / f"{env_id}.md").read_text()
        assert f"(../assets/{env_id}.gif)" in page and f"<!-- spaces: {env_id} -->" in page
        assert (ROOT / "assets" / f"{env_id}.gif").is_file()
        assert f"envs/{env_id}.md" in (ROOT / "mkdocs.yml").read_text()


def test_readme_sections_the_home_page_includes_exist_once():
    readme = (ROOT / "README.md").read_text()
    for name in re.findall(r'--8<-- "README.md:(\w+)"', (ROOT / "docs" / "index.md").read_text()):
        assert readme.count(f"[start:{name}]") == 1 and readme.count(f"[end:{name}]") == 1
    assert "pip install torch==2.13.0 && pip install -e \".[dev]\" && python -m pytest -q" in readme
    assert "mkdocs serve" in readme


def test_readme_sections_the_home_page_includes_link_only_to_what_both_places_have():
    """A README section is read on GitHub from the repository root and on the site from ``docs/``: a link
    into ``docs/`` works on one and breaks the strict build on the other; ``assets/`` is copied to both."""
    readme = (ROOT / "README.md").read_text()
    for name in re.findall(r'--8<-- "README.md:(\w+)"', (ROOT / "docs" / "index.md").read_text()):
        section = readme.split(f"[start:{name}]")[1].split(f"[end:{name}]")[0]
        for target in re.findall(r"\]\(([^)#]+)", section):
            assert target.startswith(("http://", "https://", "assets/")), f"{name}: link to {target}"
