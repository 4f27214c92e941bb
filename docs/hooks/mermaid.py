"""MkDocs hook: the site serves Mermaid itself, so its diagrams render offline.

mkdocs-material draws ```mermaid blocks with the Mermaid library, which it loads from a
CDN unless a global `mermaid` is already defined. A classroom, a CI runner or a student
on a train may have no internet, and then every diagram stays a block of text. So the
site ships the library: this hook adds npm's `mermaid` package's `dist/mermaid.min.js`,
pinned to `VERSION` (Material expects Mermaid 11), to the site as
`assets/javascripts/mermaid.min.js`, and loads it on the pages that have a diagram
(only there: it is 3.5 MB of script to parse).

The file comes from the npm registry, not from this repository (it is 3 MB of built
JavaScript): `python docs/hooks/mermaid.py install` (which `make install` runs) fetches
the package with `npm pack`, whose integrity check npm does, and keeps the one file
under `build/mermaid/`. Without it the build warns, so `mkdocs build --strict` fails
and says what to run.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

log = logging.getLogger("mkdocs.hooks.mermaid")

VERSION = "11.17.2"
SITE_PATH = "assets/javascripts/mermaid.min.js"
ROOT = Path(__file__).resolve().parents[2]
LOCAL = ROOT / "build" / "mermaid" / f"mermaid-{VERSION}.min.js"
INSTALL = "python docs/hooks/mermaid.py install"
DIAGRAM = 'class="mermaid"'  # how pymdownx.superfences writes a ```mermaid block


def on_files(files: Files, config: MkDocsConfig) -> Files:
    if not LOCAL.is_file():
        log.warning("Mermaid %s is not installed at %s: run `%s` (make install does)", VERSION, LOCAL, INSTALL)
        return files
    files.append(File.generated(config, SITE_PATH, abs_src_path=str(LOCAL)))
    return files


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    if DIAGRAM not in output:
        return output
    # After Material's bundle, which looks for a global `mermaid` only once the page has loaded.
    script = f'<script src="{get_relative_url(SITE_PATH, page.url)}"></script>'
    head, body_end, tail = output.rpartition("</body>")
    return f"{head}{script}{body_end}{tail}"


def install() -> Path:
    """Fetch npm's mermaid@VERSION and keep its dist/mermaid.min.js at `LOCAL`."""
    if LOCAL.is_file():
        return LOCAL
    with tempfile.TemporaryDirectory(prefix="mermaid-") as folder:
        subprocess.run(
            ["npm", "pack", f"mermaid@{VERSION}", "--pack-destination", folder, "--silent"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        with tarfile.open(Path(folder) / f"mermaid-{VERSION}.tgz") as archive:
            script = archive.extractfile("package/dist/mermaid.min.js")
            if script is None:
                raise FileNotFoundError(f"mermaid@{VERSION} has no dist/mermaid.min.js")
            LOCAL.parent.mkdir(parents=True, exist_ok=True)
            partial = LOCAL.with_suffix(".part")
            partial.write_bytes(script.read())
            partial.replace(LOCAL)  # never leave half a file where the build looks
    return LOCAL


if __name__ == "__main__":
    if sys.argv[1:] != ["install"]:
        sys.exit(f"usage: {INSTALL}")
    print(install())
