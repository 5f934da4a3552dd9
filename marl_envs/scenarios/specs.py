"""Declarative descriptions of what a scenario takes and gives: actions and observation layout.

They are plain data (no gymnasium here: scenarios stay free of API libraries); the api
layer turns them into gymnasium spaces, and structured policies read ``ObsSpec`` to find
entity blocks and visibility masks inside the flat observation vector.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class ActionSpec:
    """Per-agent action space.

    Attributes:
        kind: "discrete" (one int in [0, n)), "multi_discrete" (ints, dim d in [0, nvec[d])),
            or "continuous" (floats in [low, high], shape ``shape``).
        n: number of discrete actions.
        nvec: sizes of each multi-discrete dimension.
        shape: continuous action shape.
        low, high: continuous bounds; values outside are clipped (MPE2/PettingZoo convention).
    """

    kind: Literal["discrete", "multi_discrete", "continuous"]
    n: int = 0
    nvec: tuple[int, ...] = ()
    shape: tuple[int, ...] = ()
    low: float = 0.0
    high: float = 1.0

    @property
    def batch_shape_suffix(self) -> tuple[int, ...]:
        """Trailing shape of an action tensor after (B, A): () for discrete."""
        if self.kind == "discrete":
            return ()
        if self.kind == "multi_discrete":
            return (len(self.nvec),)
        return self.shape


@dataclass(frozen=True)
class ObsBlock:
    """A named run of ``count`` entities of ``size`` features each in the flat observation."""

    name: str
    size: int
    count: int = 1
    description: str = ""

    @property
    def width(self) -> int:
        return self.size * self.count


@dataclass(frozen=True)
class ObsSpec:
    """The observation layout, declared once: ordered blocks of a flat float vector."""

    blocks: tuple[ObsBlock, ...]

    @property
    def dim(self) -> int:
        return sum(b.width for b in self.blocks)

    def slices(self) -> dict[str, slice]:
        """Block name -> slice of the flat observation vector."""
        out, start = {}, 0
        for b in self.blocks:
            out[b.name] = slice(start, start + b.width)
            start += b.width
        return out

    def table(self) -> str:
        """Markdown table of the layout (used in docs and ``repr``)."""
        rows = ["| slice | name | entities x features | meaning |", "|---|---|---|---|"]
        for b in self.blocks:
            s = self.slices()[b.name]
            rows.append(f"| {s.start}:{s.stop} | {b.name} | {b.count} x {b.size} | {b.description} |")
        return "\n".join(rows)
