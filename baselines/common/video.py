"""Video files of rendered frames: every frame kept, none resized (mp4 through imageio-ffmpeg, GIF through Pillow).

``baselines.evaluate --video`` and ``examples/make_media.py`` stream frames here. Off-the-shelf
writers drop or alter frames in ways that break "one frame per step": imageio's mp4 writer resizes
to multiples of 16 and Pillow's GIF ``save_all`` merges identical consecutive frames, hence the
two thin writers below.
"""

from __future__ import annotations

import math
import os

import numpy as np

from baselines.common.optional import require

VIDEO_EXTENSIONS = (".mp4", ".gif")
"""The video formats ``--video`` writes, chosen by the file's extension (case-insensitive)."""


def check_video_path(path: str) -> str:
    """The lower-case extension of a video path; a ValueError unless it is one of ``VIDEO_EXTENSIONS``."""
    ext = os.path.splitext(str(path))[1].lower()
    if ext not in VIDEO_EXTENSIONS:
        raise ValueError(f"video {str(path)!r}: unsupported extension {ext or '(none)'!r}, "
                         f"use one of {', '.join(VIDEO_EXTENSIONS)}")
    return ext


class VideoWriter:
    """Streams (H, W, 3) uint8 RGB frames to an .mp4 or .gif file, every frame kept, none resized.

    The extension is checked and missing directories are created at construction; the file is
    opened with the first frame, whose size every later frame must have. ``count`` is the number
    of frames written. Use as a context manager, or call ``close``.

    Args:
        path: the output file, ``.mp4`` (H.264, yuv420p, through imageio-ffmpeg; an odd width or
            height gets one replicated edge column/row) or ``.gif`` (Pillow's quantiser and LZW,
            streamed: each frame stores only the rectangle that changed, with its own palette,
            and identical frames are kept as 1-pixel frames instead of being merged).
        fps: playback rate (a GIF stores whole 1/100 s delays, at least 2).
    """

    def __init__(self, path: str | os.PathLike, fps: float = 10.0):
        self.path = os.fspath(path)
        self.ext = check_video_path(self.path)
        if not (isinstance(fps, int | float) and math.isfinite(fps) and fps > 0):
            raise ValueError(f"fps must be a positive number, got {fps!r}")
        self.fps = float(fps)
        self.count = 0
        self.size: tuple[int, int] | None = None  # (height, width) of the first frame
        self._writer = None
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)

    def append(self, frame) -> None:
        """Write one frame."""
        if frame is None:
            raise ValueError("got no frame (None): was the env made with render_mode='rgb_array'?")
        frame = np.asarray(frame)
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(f"frames must be (H, W, 3) uint8 RGB arrays, got {frame.dtype} {frame.shape}")
        if self._writer is None:
            self.size = (frame.shape[0], frame.shape[1])
            self._writer = _Mp4Writer(self.path, self.fps) if self.ext == ".mp4" else _GifWriter(self.path, self.fps)
        elif frame.shape[:2] != self.size:
            raise ValueError(f"frame {self.count} is {frame.shape[1]}x{frame.shape[0]}, "
                             f"the video is {self.size[1]}x{self.size[0]}")
        self._writer.append(frame)
        self.count += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Mp4Writer:
    def __init__(self, path: str, fps: float):
        imageio = require("imageio.v2", "train", "mp4 videos", package="imageio")
        require("imageio_ffmpeg", "train", "mp4 videos", package="imageio-ffmpeg")

        # macro_block_size=1: imageio would otherwise resize to a multiple of 16 (700 -> 704) with a warning.
        self._writer = imageio.get_writer(path, format="FFMPEG", mode="I", fps=fps, codec="libx264",
                                          pixelformat="yuv420p", macro_block_size=1)

    def append(self, frame: np.ndarray) -> None:
        h, w = frame.shape[:2]
        if h % 2 or w % 2:  # yuv420p needs even sizes: pad, never resize
            frame = np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        self._writer.append_data(frame)

    def close(self) -> None:
        self._writer.close()


class _GifWriter:
    """A streaming GIF89a writer on Pillow's GIF encoder (Pillow's own ``save_all`` merges identical frames)."""

    def __init__(self, path: str, fps: float):
        self._duration = 10 * max(2, round(100 / fps))  # ms; GIF delays are centiseconds, browsers slow < 2
        self._file = open(path, "wb")  # closed in close()
        self._previous: np.ndarray | None = None

    def append(self, frame: np.ndarray) -> None:
        GifImagePlugin = require("PIL.GifImagePlugin", "train", "GIF videos", package="pillow")  # noqa: N806

        if self._previous is None:
            image, offset = _to_palette(frame), (0, 0)
            header, _ = GifImagePlugin.getheader(image, info={"loop": 0})
            self._file.write(b"".join(header))
        else:
            changed = (frame != self._previous).any(axis=-1)
            rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
            top, bottom, left, right = (rows[0], rows[-1] + 1, cols[0], cols[-1] + 1) if rows.size else (0, 1, 0, 1)
            image, offset = _to_palette(frame[top:bottom, left:right]), (int(left), int(top))
        chunks = GifImagePlugin.getdata(image, offset, duration=self._duration, disposal=1, include_color_table=True)
        self._file.write(b"".join(chunks))
        self._previous = frame.copy()  # the caller may reuse its buffer

    def close(self) -> None:
        self._file.write(b";")  # trailer
        self._file.close()


def _to_palette(rgb: np.ndarray):
    Image = require("PIL.Image", "train", "GIF videos", package="pillow")  # noqa: N806

    return Image.fromarray(np.ascontiguousarray(rgb)).convert("P", palette=Image.Palette.ADAPTIVE, colors=256)
