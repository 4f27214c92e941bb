"""A term's handout of this course holds no solution of its chapter or any later one.

A term hands out chapter 01 in week 1; that copy must not contain the answers of
chapters 02 and 03 (it once did, markers included). For every chapter, the handout
made as `dynamo course handout CH` makes it is checked against the reference: no
region of that chapter or a later one is still there, with or without its markers,
while the earlier chapters keep their reference code, which the later layers need.
"""

from __future__ import annotations

import pytest

from dynamo.course import course_root, load_chapters, make_handout
from dynamo.course.handout import term_chapters
from dynamo.course.preflight import reference_regions

ROOT = course_root()
CHAPTERS = load_chapters(ROOT)


def _normalised(text: str) -> list[str]:
    stripped = (line.strip() for line in text.splitlines())
    return [line for line in stripped if line and not line.startswith("#")]


def _holds(text: str, code: tuple[str, ...]) -> bool:
    lines = _normalised(text)
    return any(tuple(lines[i : i + len(code)]) == code for i in range(len(lines) - len(code) + 1))


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda chapter: chapter.name)
def test_a_term_handout_holds_no_solution_of_its_chapter_or_a_later_one(chapter, tmp_path):
    later = term_chapters(CHAPTERS, chapter)
    handout = make_handout(ROOT, chapter, tmp_path / "handout", later=later)
    assert handout.chapters == tuple(c.name for c in [chapter, *later])
    for each in CHAPTERS:
        regions = reference_regions(ROOT, each)
        assert regions, f"{each.name} has assignment regions in the reference"
        for found in regions:
            text = (handout.out / found.region.path).read_text(encoding="utf-8")
            held = _holds(text, found.code)
            if each.number >= chapter.number:
                assert not held, f"the {chapter.name} handout holds {each.name}'s solution at {found.region.path}"
                assert f"BEGIN ASSIGNMENT {found.region.id}" not in text
                assert f'raise NotImplementedError("{found.region.id}:' in text
            else:
                assert held, f"the {chapter.name} handout lost {each.name}'s reference code at {found.region.path}"



def serve_from_handout(chapter_prefix: str, tmp_path) -> str:
    """Make a term handout of the chapter, serve from it, write and read one item there;
    the server's log."""
    import boto3

    from dynamo.cli.launch import start_server

    chapter = next(c for c in CHAPTERS if c.name.startswith(chapter_prefix))
    out = tmp_path / "handout"
    make_handout(ROOT, chapter, out, later=term_chapters(CHAPTERS, chapter))
    server = start_server("--in-memory", cwd=out)
    try:
        client = boto3.client("dynamodb", endpoint_url=server.url, region_name="us-east-1",
                              aws_access_key_id="x", aws_secret_access_key="x")
        client.create_table(TableName="handout", BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "pk",
                                                   "AttributeType": "S"}])
        client.put_item(TableName="handout", Item={"pk": {"S": "a"}})
        got = client.get_item(TableName="handout", Key={"pk": {"S": "a"}}, ConsistentRead=True)
        assert got["Item"] == {"pk": {"S": "a"}}
        return server.log()
    finally:
        server.stop()


def test_a_handout_before_chapter_06_serves_with_admission_control_off(tmp_path):
    """Every request passes through chapter 06's token buckets; in a handout where they
    are still stubs, `dynamo serve` says so and serves without admission control, so an
    earlier chapter's student can use the database."""
    assert "chapter 06 are not written yet" in serve_from_handout("05", tmp_path)


def test_a_handout_before_chapter_03_serves_one_unreplicated_node(tmp_path):
    """Without chapter 03's Multi-Paxos core no replicated fleet can elect a leader; in
    such a handout `dynamo serve` says so and serves one unreplicated node, so a student
    of chapters 01 and 02 can use the database they are building."""
    assert "Paxos core of chapter 03 is not written yet" in serve_from_handout("02", tmp_path)
