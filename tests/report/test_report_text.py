"""terminal_safe: nothing a device sends can drive the terminal or rich."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st
from rich.text import Text

from camaudit.report.text import strip_controls, terminal_safe


def test_examples() -> None:
    assert terminal_safe("\x1b[2J[red]x[/red]") == "\\x1b[2J\\[red]x\\[/red]"
    assert terminal_safe("fw\u202eevil\x9b") == "fw\\u202eevil\\x9b"
    assert terminal_safe(None) == "-" and terminal_safe(3) == "3"
    assert strip_controls("a\nb\tc", keep_lines=True) == "a\nb\tc"
    assert strip_controls("a\nb\x00", keep_lines=True) == "a\nb\\x00"


@given(st.text())
def test_rich_shows_exactly_the_visible_text(value: str) -> None:
    safe = terminal_safe(value)
    plain = Text.from_markup(safe).plain
    expected = strip_controls(value)
    if expected.endswith("\\"):
        expected = expected[:-1] + "\\x5c"
    assert plain == expected
    assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in plain if c != "\u00ad")
