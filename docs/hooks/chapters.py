"""MkDocs hook: the course's chapters become pages of the site, in chapter order.

The chapters live beside the code they teach, in `chapters/NN-slug/` (see
`dynamo/course/chapters.py`), not under `docs/`. This hook reads every chapter.toml
and

- adds each chapter's `lesson.md` and `assignment.md` to the site as they are, at
  `chapters/NN-slug/`, plus an overview page generated from chapter.toml (what you
  will learn, run the layer alone, the assignment and its points, watch it in the
  dashboard, readings) and a `chapters/index.md` listing them all;
- replaces the `Chapters` entry of the nav in mkdocs.yml by those pages, in order;
- warns (so `mkdocs build --strict` fails) if a page *includes* the inside of an
  assignment region: lessons include tested code, never the solutions.

A new chapter folder therefore appears on the site without editing mkdocs.yml.
"""

from __future__ import annotations

import importlib.util
import logging
import re
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from dynamo.course.chapters import Chapter, load_chapters

log = logging.getLogger("mkdocs.hooks.chapters")

NAV_ENTRY = "Chapters"
PAPER = "https://www.usenix.org/conference/atc22/presentation/vig"
LEAK = re.compile(r"# BEGIN ASSIGNMENT ch\d+-")  # a real region marker, as source code has it


def _root(config: MkDocsConfig) -> Path:
    return Path(config.config_file_path).resolve().parent


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    chapters = load_chapters(_root(config))
    section = [{"All chapters": "chapters/index.md"}] + [
        {
            f"{chapter.number}. {chapter.title}": [
                {"Overview": f"chapters/{chapter.name}/index.md"},
                {"Lesson": f"chapters/{chapter.name}/lesson.md"},
                {"Assignment": f"chapters/{chapter.name}/assignment.md"},
            ]
        }
        for chapter in chapters
    ]
    nav = config.nav or []
    places = [i for i, entry in enumerate(nav) if isinstance(entry, dict) and NAV_ENTRY in entry]
    if len(places) != 1:
        raise ValueError(f"mkdocs.yml nav needs exactly one '{NAV_ENTRY}' entry for the chapters hook")
    nav[places[0]] = {NAV_ENTRY: section}
    config.nav = nav
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    chapters = load_chapters(_root(config))
    files.append(File.generated(config, "chapters/index.md", content=_chapters_index(chapters)))
    for chapter in chapters:
        files.append(File.generated(config, f"chapters/{chapter.name}/index.md", content=_overview(chapter, chapters)))
        for source in (chapter.lesson, chapter.statement):
            if not source.is_file():
                log.warning("chapter %s has no %s", chapter.name, source.name)
                continue
            uri = f"chapters/{chapter.name}/{source.name}"
            files.append(File.generated(config, uri, abs_src_path=str(source)))
    return files


def on_serve(server: Any, config: MkDocsConfig, builder: Any) -> Any:
    root = _root(config)
    for folder in ("chapters", "dynamo"):
        server.watch(str(root / folder))
    return server


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    # Before snippets are expanded: a page may *show* a marker in its own text.
    page.meta["_writes_marker"] = LEAK.search(markdown) is not None
    return markdown


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if LEAK.search(html) and not page.meta.get("_writes_marker"):
        log.warning("%s includes the inside of an assignment region: include code around it", page.file.src_uri)
    return html


def _chapters_index(chapters: list[Chapter]) -> str:
    rows = "\n".join(
        f"| {c.number} | [{c.title}]({c.name}/index.md) | `{c.layer}` | {', '.join(c.paper)} | {c.total_points} |"
        for c in chapters
    )
    return f"""# Chapters

Each chapter teaches one layer of Dynamo Lab, from the bottom up. Read the lesson,
run the layer alone, then implement the assignment and grade it yourself with
`dynamo course grade`. See [Start here](../start-here.md) for how grading works.

| # | chapter | layer | paper | points |
|---|---------|-------|-------|--------|
{rows}
"""


def _overview(chapter: Chapter, chapters: list[Chapter]) -> str:
    by_name = {c.name: c for c in chapters}
    prerequisites = ", ".join(
        f"[{by_name[name].title}](../{name}/index.md)" if name in by_name else name for name in chapter.prerequisites
    )
    goals = "\n".join(f"- {goal}" for goal in chapter.goals)
    assignments = "\n".join(f"- `{a.id}`: {a.title}" for a in chapter.assignments)
    graded = "\n".join(f"| `{g.test}` | {g.points} |" for g in chapter.graded)
    readings = "\n".join(f"- {reading}" for reading in chapter.readings)
    number = f"{chapter.number:02d}"
    return f"""# Chapter {chapter.number}: {chapter.title}

**Layer:** `{chapter.layer}` · **Paper:** [DynamoDB, USENIX ATC 2022]({PAPER}) {", ".join(chapter.paper)}
· **Before this:** {prerequisites or "nothing, start here"}

## What you will learn

{goals}

## Run the layer alone

```console
$ {chapter.demo}
```

The layer runs by itself and prints what happened; the [lesson](lesson.md) walks
through what you see.

## The lesson

[Read the lesson](lesson.md): the ideas of the paper's sections {", ".join(chapter.paper)},
shown in the code that implements them.

## The assignment

[The statement](assignment.md) says what to implement and where:

{assignments}

Get a copy with those parts removed, implement them, and grade your copy:

```console
$ dynamo course handout {number} --out ~/dynamo-{chapter.slug}
$ cd ~/dynamo-{chapter.slug} && make install && . .venv/bin/activate
$ dynamo course grade {number}
```

The handout stubs this chapter and every later one, so it holds no later solution.

| graded test | points |
|-------------|--------|
{graded}
| **total** | **{chapter.total_points}** |

## Watch it in the dashboard

{_dashboard(chapter)}

## Readings

- The DynamoDB paper ([USENIX ATC 2022]({PAPER})), sections {", ".join(chapter.paper)}.
{readings}
"""


def _dashboard(chapter: Chapter) -> str:
    if chapter.dashboard:
        return chapter.dashboard
    if importlib.util.find_spec("dynamo.tui") is not None:
        return (
            "Start the database with `dynamo serve`, then open the dashboard on it with "
            "`dynamo dashboard --endpoint http://127.0.0.1:8000`, or watch a simulated "
            "replication group with `dynamo dashboard --sim paxos-failover`. "
            "See [The dashboard](../../dashboard.md)."
        )
    return (
        "The live dashboard (`dynamo.tui`) is not in this release yet. Until it is, "
        f"the demo above prints the state that `{chapter.layer}` exposes, step by step."
    )
