"""A headless Chromium driven over the Chrome DevTools Protocol, just enough to check a site.

Playwright and Selenium download browser builds of their own, which fails on a machine
without internet; Debian's `chromium` package is what CI installs. So this starts that
binary with `--remote-debugging-port=0`, reads the websocket address it prints, and
speaks CDP over aiohttp's websocket client: open one tab, and for each page navigate,
wait for the load event, run a script, and collect what the console reported.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp

CHROMIUM = "chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
)
LISTENING = re.compile(r"DevTools listening on (?P<url>ws://\S+)")


class BrowserError(RuntimeError):
    """Chromium is missing, did not start, or did not answer in time."""


@dataclass
class PageReport:
    """What loading one page showed: console errors, and the script's result."""

    url: str
    errors: list[str] = field(default_factory=list)
    result: Any = None


class Tab:
    """One page target of a running Chromium, attached with a flat session."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse, session: str) -> None:
        self._socket = socket
        self._session = session
        self._ids = itertools.count(1000)
        self._replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.errors: list[str] = []

    def dispatch(self, message: dict[str, Any]) -> None:
        if "id" in message and message["id"] in self._replies:
            self._replies.pop(message["id"]).set_result(message)
        elif message.get("sessionId") == self._session:
            self._note_error(message)
            self._events.put_nowait(message)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        return await command(self._socket, self._replies, next(self._ids), method, params, self._session)

    async def load(self, url: str, script: str, timeout: float = 20.0) -> PageReport:
        """Navigate to `url`, wait for its load event, then evaluate `script` (awaiting a promise)."""
        self.errors = []
        while not self._events.empty():
            self._events.get_nowait()
        await self.send("Page.navigate", url=url)
        await asyncio.wait_for(self._wait_for("Page.loadEventFired"), timeout)
        reply = await self.send("Runtime.evaluate", expression=script, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in reply.get("result", {}):
            self.errors.append(f"the check script failed: {reply['result']['exceptionDetails']}")
        value = reply.get("result", {}).get("result", {}).get("value")
        return PageReport(url, list(self.errors), value)

    async def _wait_for(self, method: str) -> None:
        while (await self._events.get()).get("method") != method:
            pass

    def _note_error(self, message: dict[str, Any]) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text", "")
            self.errors.append(f"uncaught exception: {text}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in {"error", "assert"}:
            words = [str(arg.get("value", arg.get("description", ""))) for arg in params.get("args", [])]
            self.errors.append(f"console.{params['type']}: {' '.join(words)}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            entry = params["entry"]
            self.errors.append(f"{entry.get('source')}: {entry.get('text')} {entry.get('url', '')}".strip())


async def command(
    socket: aiohttp.ClientWebSocketResponse,
    replies: dict[int, asyncio.Future[dict[str, Any]]],
    number: int,
    method: str,
    params: dict[str, Any],
    session: str | None = None,
) -> dict[str, Any]:
    """Send one CDP command and wait for its reply (the reader task resolves the future)."""
    reply: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    replies[number] = reply
    message: dict[str, Any] = {"id": number, "method": method, "params": params}
    if session is not None:
        message["sessionId"] = session
    await socket.send_str(json.dumps(message))
    answer = await asyncio.wait_for(reply, 20.0)
    if "error" in answer:
        raise BrowserError(f"{method}: {answer['error']}")
    return answer


@asynccontextmanager
async def chromium_tab() -> AsyncIterator[Tab]:
    """A headless Chromium with one tab whose console is watched; stopped on exit."""
    binary = shutil.which(CHROMIUM)
    if binary is None:
        raise BrowserError("no `chromium` on PATH: install Debian's package (apt-get install chromium)")
    # Chromium's helper processes may still be writing to the profile as it exits.
    with tempfile.TemporaryDirectory(prefix="chromium-profile-", ignore_cleanup_errors=True) as profile:
        process = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group: the helpers end with it
        )
        try:
            url = await asyncio.wait_for(asyncio.to_thread(_devtools_url, process), 30.0)
            async with aiohttp.ClientSession() as client, client.ws_connect(url, max_msg_size=0) as socket:
                yield await _open_tab(socket)
        finally:
            _stop(process)


def _stop(process: subprocess.Popen[str]) -> None:
    """End the Chromium this module started, and its helper processes (one process group)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
            process.wait(10)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def _devtools_url(process: subprocess.Popen[str]) -> str:
    assert process.stderr is not None
    seen = []
    for line in process.stderr:
        match = LISTENING.search(line)
        if match:
            return match["url"]
        seen.append(line)
    raise BrowserError("chromium exited before listening:\n" + "".join(seen[-20:]))


async def _open_tab(socket: aiohttp.ClientWebSocketResponse) -> Tab:
    replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
    tabs: list[Tab] = []

    async def read() -> None:
        async for frame in socket:
            message = json.loads(frame.data)
            if "id" in message and message["id"] in replies:
                replies.pop(message["id"]).set_result(message)
            for tab in tabs:
                tab.dispatch(message)

    reader = asyncio.get_running_loop().create_task(read())
    target = await command(socket, replies, 1, "Target.createTarget", {"url": "about:blank"})
    attached = await command(
        socket, replies, 2, "Target.attachToTarget", {"targetId": target["result"]["targetId"], "flatten": True}
    )
    tab = Tab(socket, attached["result"]["sessionId"])
    tab.reader = reader  # type: ignore[attr-defined]  # keep the task referenced while the tab lives
    tabs.append(tab)
    for domain in ("Page", "Runtime", "Log"):
        await tab.send(f"{domain}.enable")
    return tab
