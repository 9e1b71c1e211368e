"""The one text-table renderer: display width, clipping, alignment, the rule, the stretch column;
and the text reports' tables aligned by display width."""
from __future__ import annotations

from exifdata_analytics.analysis import Comparison
from exifdata_analytics.reports import format_comparison
from exifdata_analytics.texttable import clip, display_width, table_lines


def test_display_width_counts_wide_characters_twice_and_combining_marks_not_at_all():
    assert display_width("cat") == 3
    assert display_width("猫耳_style") == 10
    assert display_width("ＡＢ") == 4  # full-width Latin letters
    assert display_width("e\u0301") == 1  # e + combining acute accent


def test_clip_marks_the_cut_on_either_side_and_keeps_within_the_width():
    assert clip("abcdef", 6) == "abcdef"
    assert clip("abcdef", 4) == "abc…"
    assert clip("/a/b/c/img.png", 8, left=True) == "…img.png"
    assert clip("猫耳猫耳", 5) == "猫耳…"  # a wide character that does not fit is left out whole
    assert clip("猫耳猫耳", 4) == "猫…"
    assert clip("abc", 0) == ""


def test_table_aligns_numeric_columns_right_and_draws_the_rule_when_asked():
    rows = [["猫耳_style", "3"], ["detail_tweaker", "12"]]
    assert table_lines(["LoRA", "Images"], rows, numeric=(1,), rule=True) == [
        "LoRA            Images",
        "--------------  ------",
        "猫耳_style           3",
        "detail_tweaker      12",
    ]
    assert table_lines(["LoRA", "Images"], rows, numeric=(1,))[1] == "猫耳_style           3"


def test_max_widths_clip_cells_and_no_line_ends_in_spaces():
    lines = table_lines(["Path", "Note"], [["/very/long/folder/name/image.png", ""], ["a.png", "x"]],
                        max_widths={0: 12}, clip_left=(0,))
    assert lines == ["Path          Note", "…e/image.png", "a.png         x"]


def test_the_stretch_column_takes_what_is_left_of_the_total_width():
    prompt = "a very long prompt " * 10
    lines = table_lines(["N", "Prompt"], [["1", prompt]], numeric=(0,), total_width=30, stretch=1, rule=True)
    assert all(display_width(line) <= 30 for line in lines)
    assert lines[2].endswith("…") and display_width(lines[1]) == 30


def test_report_tables_align_cjk_names_by_display_width():
    comparison = Comparison("folder=/a", "folder=/b", 4, 3,
                            (("LoRA", (("猫耳_style", 3, 1), ("detail_tweaker", 1, 2))),))
    lines = format_comparison(comparison).splitlines()
    table = lines[lines.index("Analysis for LoRA:") + 1:]
    assert table == [
        "LoRA            A    A %  B    B %",
        "猫耳_style      3  75.0%  1  33.3%",  # 猫耳 takes four columns: the counts line up
        "detail_tweaker  1  25.0%  2  66.7%",
    ]
    assert len({display_width(line) for line in table}) == 1
