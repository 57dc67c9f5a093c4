"""The kernel manager papermill uses: no TCP port to race for when several years start at once.

jupyter_client picks a kernel's five TCP ports by binding to port 0 and
releasing them before the kernel binds them itself; two kernels started at the
same moment can be handed the same port (papermill issue 511, jupyter_client's
"handshaking" proposal, JEP 66).  On POSIX systems the kernel here talks over
Unix domain sockets instead (``transport = "ipc"``), placed in a private
temporary folder of its own, so no two kernels can ever share an address.
Windows has no such sockets: there the default TCP transport is kept.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from jupyter_client import AsyncKernelManager
from traitlets import CaselessStrEnum, default

__all__ = ["IsolatedKernelManager", "TRANSPORT"]

TRANSPORT = "ipc" if os.name == "posix" else "tcp"


class IsolatedKernelManager(AsyncKernelManager):
    """A kernel whose connection file and sockets live in a fresh private folder.

    The folder (mode 0700, from :func:`tempfile.mkdtemp`) is removed when the
    kernel shuts down.  The socket paths are short (``/tmp/evaluation-kernel-…/
    kernel-ipc-1``), well under the 104-byte limit of a Unix socket path.
    """

    transport = CaselessStrEnum(["tcp", "ipc"], default_value=TRANSPORT, config=True)

    @default("connection_file")
    def _private_connection_file(self) -> str:
        # The ipc socket paths derive from this name (``kernel-ipc-<n>`` beside it); a
        # folder per kernel keeps them apart without relying on a check-then-create.
        return os.path.join(tempfile.mkdtemp(prefix="evaluation-kernel-"), "kernel.json")

    def cleanup_connection_file(self) -> None:
        written = self._connection_file_written  # else reading connection_file would make a folder
        super().cleanup_connection_file()
        if written:
            folder = os.path.dirname(self.connection_file)
            if os.path.basename(folder).startswith("evaluation-kernel-"):
                shutil.rmtree(folder, ignore_errors=True)
