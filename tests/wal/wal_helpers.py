"""Helpers for the WAL tests: run a function in a forked child and get its JSON result."""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from typing import Any

import orjson


def run_in_child(function: Callable[[], Any]) -> Any:
    """Fork, run `function` in the child, return what it returned (JSON round trip).

    The child's changes to the process (monkeypatched os.fsync) die with it.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        try:
            result = {"ok": function()}
        except BaseException:
            result = {"error": traceback.format_exc()}
        os.write(write_end, orjson.dumps(result))
        os._exit(0)
    os.close(write_end)
    data = b""
    while chunk := os.read(read_end, 65536):
        data += chunk
    os.close(read_end)
    os.waitpid(pid, 0)
    result = orjson.loads(data)
    if "error" in result:
        raise AssertionError("child failed:\n" + result["error"])
    return result["ok"]
