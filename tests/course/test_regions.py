"""Assignment regions: finding BEGIN/END ASSIGNMENT markers and stubbing them out."""

import pytest

from dynamo.course import RegionError, find_regions, replace_regions

REFERENCE = '''\
def begins_with(value, prefix):
    """True when value starts with prefix."""
    # BEGIN ASSIGNMENT ch01-functions: implement begins_with for strings and binaries
    if value is None:
        return False
    return value.startswith(prefix)
    # END ASSIGNMENT


class Sizer:
    def size(self, value):
        # BEGIN ASSIGNMENT ch01-functions
        return len(value)
        # END ASSIGNMENT

    def other(self):
        # BEGIN ASSIGNMENT ch02-recovery: keep me
        return 2
        # END ASSIGNMENT
'''


def test_finds_each_region_with_its_id_hint_and_lines():
    regions = find_regions(REFERENCE, "x.py")
    assert [(r.id, r.hint, r.begin, r.end, r.indent) for r in regions] == [
        ("ch01-functions", "implement begins_with for strings and binaries", 3, 7, "    "),
        ("ch01-functions", "", 12, 14, "        "),
        ("ch02-recovery", "keep me", 17, 19, "        "),
    ]


def test_replaces_only_the_chosen_chapter_and_keeps_the_rest_intact():
    text, replaced = replace_regions(
        REFERENCE, {"ch01-functions"}, "x.py", {"ch01-functions": "begins_with and size"}
    )
    assert [region.begin for region in replaced] == [3, 12]
    assert '    raise NotImplementedError("ch01-functions: implement begins_with for strings and binaries")\n' in text
    # A region without its own hint takes the assignment's title, at its own indentation.
    assert '        raise NotImplementedError("ch01-functions: begins_with and size")\n' in text
    assert "value.startswith" not in text and "len(value)" not in text
    assert '"""True when value starts with prefix."""' in text
    assert "# BEGIN ASSIGNMENT ch02-recovery: keep me\n        return 2\n" in text


def test_the_stubbed_code_raises_a_message_naming_the_assignment():
    text, _ = replace_regions(REFERENCE, {"ch01-functions"}, "x.py")
    namespace: dict = {}
    exec(compile(text, "x.py", "exec"), namespace)
    with pytest.raises(NotImplementedError, match=r"^ch01-functions: implement begins_with"):
        namespace["begins_with"]("abc", "a")
    with pytest.raises(NotImplementedError, match=r"^ch01-functions: "):
        namespace["Sizer"]().size("abc")
    assert namespace["Sizer"]().other() == 2


def test_text_without_the_chapter_is_returned_unchanged():
    assert replace_regions(REFERENCE, {"ch09-none"}, "x.py") == (REFERENCE, [])


def test_markers_shown_inside_a_docstring_are_not_regions():
    text = 'def f():\n    """Example:\n    # BEGIN ASSIGNMENT ch01-x\n    # END ASSIGNMENT\n    """\n    return 1\n'
    assert find_regions(text, "d.py") == []


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("def f():\n    # BEGIN ASSIGNMENT a\n    return 1\n", "has no END"),
        ("def f():\n    return 1\n    # END ASSIGNMENT\n", "without a BEGIN"),
        ("def f():\n    # BEGIN ASSIGNMENT a\n    # BEGIN ASSIGNMENT b\n    # END ASSIGNMENT\n", "inside the region"),
        ("def f():\n    # BEGIN ASSIGNMENT\n    return 1\n", "malformed marker"),
    ],
)
def test_markers_that_do_not_pair_up_are_reported_with_their_line(text, complaint):
    with pytest.raises(RegionError, match=complaint) as caught:
        find_regions(text, "bad.py")
    assert "bad.py:" in str(caught.value)


def test_a_region_that_is_not_whole_statements_is_refused():
    text = "x = (1 +\n# BEGIN ASSIGNMENT a\n  2)\n# END ASSIGNMENT\n"
    with pytest.raises(RegionError, match="would not parse"):
        replace_regions(text, {"a"}, "half.py")
