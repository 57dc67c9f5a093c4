"""Kernels started at the same moment each get private sockets: no port to race for (papermill #511)."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest

from evaluation.report.kernels import TRANSPORT, IsolatedKernelManager

pytestmark = pytest.mark.slow


async def _start_run_stop(n: int) -> list[tuple[dict, str, str, bool]]:
    managers = [IsolatedKernelManager(kernel_name="python3") for _ in range(n)]
    await asyncio.gather(*(km.start_kernel(extra_arguments=["--IPKernelApp.log_level=ERROR"]) for km in managers))
    seen = []
    try:
        for km in managers:
            kc = km.client()
            kc.start_channels()
            await kc.wait_for_ready(timeout=60)
            reply = await kc.execute_interactive("import os; print(os.getpid())", timeout=60)
            kc.stop_channels()
            folder = Path(km.connection_file).parent
            private = stat.S_IMODE(folder.stat().st_mode) & 0o077 == 0   # no access for group or others
            seen.append((km.get_connection_info(), reply["content"]["status"], str(folder), private))
    finally:
        await asyncio.gather(*(km.shutdown_kernel(now=True) for km in managers))
    return seen


@pytest.mark.skipif(os.name != "posix", reason="Unix domain sockets")
def test_kernels_started_together_use_private_sockets_and_clean_up():
    assert TRANSPORT == "ipc"
    seen = asyncio.run(_start_run_stop(4))
    assert [status for _, status, _, _ in seen] == ["ok"] * 4
    assert all(info["transport"] == "ipc" for info, _, _, _ in seen)
    folders = [folder for _, _, folder, _ in seen]
    assert len(set(folders)) == 4 and all(Path(f).name.startswith("evaluation-kernel-") for f in folders)
    assert all(private for *_, private in seen), "only this user can reach the sockets"
    assert all(info["ip"].startswith(folder) for (info, _, folder, _) in seen)
    assert not any(Path(f).exists() for f in folders), "socket folders removed at shutdown"
