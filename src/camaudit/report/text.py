"""Device-supplied strings made safe for a terminal.

A camera chooses its own title, brand and banner, so a hostile one can send
``\\x1b]52;…`` (write the clipboard), ``\\x1b[2J`` (clear the screen), bidi
overrides that reorder what the operator reads, or rich markup such as
``[link=…]``. Every device string that reaches a terminal goes through
:func:`terminal_safe`: control characters become visible ``\\xNN`` escapes and
rich markup is escaped. The HTML report shows the same visible escapes (an
auditor should see that a device sent ``\x1b``, and a bidi override must not
reorder a firmware string); Jinja2's autoescape does the HTML part.
"""

from __future__ import annotations

import re

from rich.markup import escape

#: C0 controls, DEL, C1 controls (0x9b is a one-byte CSI), and the Unicode
#: bidi/formatting controls used in "trojan source" text.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
)


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def strip_controls(value: object, *, keep_lines: bool = False) -> str:
    """`value` as text with every control character shown as an escape.

    `keep_lines` leaves newlines and tabs alone, for HTML, where they are harmless.
    """
    if keep_lines:
        return _UNSAFE.sub(lambda m: m.group() if m.group() in "\n\t" else _visible(m),
                           str(value))
    return _UNSAFE.sub(_visible, str(value))


def terminal_safe(value: object, missing: str = "-") -> str:
    """`value` ready for a rich console: controls neutralised, markup escaped.

    ``None`` (unknown, per the output contract) prints as `missing`.
    """
    if value is None:
        return missing
    text = strip_controls(value)
    if text.endswith("\\"):
        # A trailing backslash would escape whatever markup follows it (rich doubles it
        # instead, which then shows twice): show it as a visible escape like the others.
        text = text[:-1] + "\\x5c"
    return escape(text)
