"""Errors raised on bad input, worded in French for the user."""

from __future__ import annotations


class InputError(Exception):
    """A file or a value the user gave cannot be used.

    The message names the file, the line and the field when they are known, and what to do.
    """

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 field: str | None = None, fix: str | None = None):
        self.reason = message
        self.file = file
        self.line = line
        self.field = field
        self.fix = fix
        super().__init__(self.french())

    def french(self) -> str:
        where = []
        if self.file:
            where.append(f"fichier « {self.file} »")
        if self.line is not None:
            where.append(f"ligne {self.line}")
        if self.field:
            where.append(f"champ « {self.field} »")
        text = (", ".join(where) + " : " if where else "") + self.reason
        if self.fix:
            text += f" {self.fix}"
        return text
