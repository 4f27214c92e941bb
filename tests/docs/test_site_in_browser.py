"""The built site, loaded page by page in a real browser (headless Chromium), works offline.

`mkdocs build --strict` checks links and includes, but not what a reader sees: a script
that fails, an image that does not load, a Mermaid diagram left as text because its
library could not be fetched (it came from a CDN until the site shipped it). So the
site is built into a temporary folder, served over HTTP on loopback, and every page is
loaded in Chromium (Debian's `chromium`, which CI installs; without it this fails, it
does not skip). A page fails the test on any console error or uncaught exception, on an
image that did not load, and on a diagram that did not render.

The machine has no internet, and the site must not need it: a request to another host
fails, and shows up here as a console error.
"""

from __future__ import annotations

import asyncio
import functools
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from site_browser import PageReport, chromium_tab

ROOT = Path(__file__).resolve().parents[2]
MKDOCS = Path(sys.executable).with_name("mkdocs")

# Runs once the page has loaded: waits (up to 15 s) for Material to draw every Mermaid
# block (it replaces each <pre class="mermaid"> by a <div class="mermaid"> holding the
# SVG), then reports the diagrams and the images.
CHECK = """
(async () => {
  const drawn = () => [...document.querySelectorAll("div.mermaid")]
    .filter((d) => d.getBoundingClientRect().height > 0).length;
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline
         && (document.querySelectorAll("pre.mermaid").length > 0 || drawn() < EXPECTED)) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await new Promise((resolve) => setTimeout(resolve, 100));  // late console errors
  return {
    undrawn: document.querySelectorAll("pre.mermaid").length,
    drawn: drawn(),
    broken: [...document.images].filter((i) => !(i.complete && i.naturalWidth > 0))
      .map((i) => i.getAttribute("src")),
    images: document.images.length,
  };
})()
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site as `mkdocs build --strict` makes it from this working tree."""
    folder = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    built = subprocess.run(
        [str(MKDOCS), "build", "--strict", "--quiet", "--site-dir", str(folder)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, f"mkdocs build --strict failed:\n{built.stderr}"
    return folder


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    """The built site on http://127.0.0.1:PORT/."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass  # a line per request would bury the test's own output


def test_every_page_loads_without_errors_broken_images_or_undrawn_diagrams(site, served):
    pages = sorted(path.relative_to(site).as_posix() for path in site.rglob("*.html"))
    assert len(pages) >= 20 and "chapters/03-paxos/lesson/index.html" in pages, pages
    expected = {page: (site / page).read_text(encoding="utf-8").count('class="mermaid"') for page in pages}
    assert sum(expected.values()) >= 4, "the lessons and the layers page have Mermaid diagrams"

    reports = asyncio.run(_load_all(served, pages, expected))

    problems = []
    for page, report in zip(pages, reports, strict=True):
        result = report.result or {}
        problems += [f"{page}: {error}" for error in report.errors]
        problems += [f"{page}: broken image {src}" for src in result.get("broken", ["(no result)"])]
        if result.get("undrawn", 1) or result.get("drawn", 0) < expected[page]:
            problems.append(f"{page}: {result.get('drawn')} of {expected[page]} Mermaid diagrams rendered")
    assert not problems, "\n".join(problems)
    assert sum(report.result["images"] for report in reports) >= 3, "the dashboard and WAL images were checked"


async def _load_all(base: str, pages: list[str], expected: dict[str, int]) -> list[PageReport]:
    async with chromium_tab() as tab:
        return [await tab.load(f"{base}/{page}", CHECK.replace("EXPECTED", str(expected[page]))) for page in pages]
