"""Text as users' files bring it: control characters (a vertical tab from Word's Shift+Enter, a form
feed, a NUL byte…) become spaces, so that nothing stored can break an export."""

from __future__ import annotations

import re

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # keeps tab, line feed and carriage return
LINE_BREAKS = re.compile(r"[\t\r\n]+")


def clean_text(text: str, one_line: bool = False) -> str:
    """The text without control characters; on one line (names, labels) when `one_line`."""
    text = CONTROL.sub(" ", text)
    return LINE_BREAKS.sub(" ", text) if one_line else text


def clean_frame(frame):
    """Every text cell and column name of a table read from a user's file, cleaned."""
    frame.columns = [clean_text(str(c), one_line=True) for c in frame.columns]
    for column in frame.columns:
        if frame[column].dtype == object or str(frame[column].dtype).startswith("str"):
            frame[column] = frame[column].map(lambda v: clean_text(v) if isinstance(v, str) else v)
    return frame
