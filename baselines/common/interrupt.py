"""Ctrl-C during training: the first one stops the run at the end of the update in progress.

Why not let Python raise ``KeyboardInterrupt`` wherever the signal lands: it can land inside
TensorBoard's event writer between taking and releasing its lock, and the writer's ``close`` then
waits on that lock forever (the run hangs instead of stopping); or between an optimiser step and
the update counter, and the checkpoint then holds weights one update ahead of its log. So the
first SIGINT only raises a flag, which the training loop reads at the update boundary, where it
saves a checkpoint that matches ``metrics.csv`` and stops. A second SIGINT raises
``KeyboardInterrupt`` at once, for a user who will not wait for the update to finish; Python's
own handler is back from then on, so a third one always gets out.
"""

from __future__ import annotations

import os
import signal
import threading
from contextlib import contextmanager


class StopRequest:
    """Set by the first Ctrl-C inside :meth:`deferred`; read at every update boundary."""

    def __init__(self) -> None:
        self.requested = False
        self.update = 0  # the update in progress, for the message

    def _on_sigint(self, signum, frame) -> None:
        if self.requested:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            raise KeyboardInterrupt
        self.requested = True
        # os.write, not print: the handler may run while the main thread is inside a print (reentrant call)
        os.write(2, f"\nCtrl-C: stopping after update {self.update + 1} with a checkpoint "
                    "(Ctrl-C again to stop now)\n".encode())

    @contextmanager
    def deferred(self):
        """Route SIGINT to this request while the block runs, then restore the previous handler.

        Signal handlers belong to the main thread; a run trained from another thread keeps
        Python's handling (``KeyboardInterrupt`` where it lands).
        """
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = signal.signal(signal.SIGINT, self._on_sigint)
        try:
            yield self
        finally:
            signal.signal(signal.SIGINT, previous)
