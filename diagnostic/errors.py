"""Errors raised on bad input, worded in French for the user."""

from __future__ import annotations

import errno
from pathlib import Path


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


def disk_error(exc: OSError) -> str:
    """What a file-system error means for the user, in French, naming the file (not the code)."""
    name = Path(exc.filename).name if exc.filename else "le fichier"
    reasons = {errno.ENOSPC: "le disque est plein. Libérez de la place puis recommencez ; rien n'a été modifié.",
               errno.EDQUOT: "le quota du disque est atteint. Libérez de la place puis recommencez.",
               errno.EROFS: "le disque est en lecture seule. Choisissez un dossier où vous pouvez écrire.",
               errno.EACCES: "accès refusé. Choisissez un dossier où vous pouvez écrire, ou demandez les droits.",
               errno.EPERM: "opération non permise. Choisissez un dossier où vous pouvez écrire.",
               errno.EISDIR: "c'est un dossier. Donnez un nom de fichier, par exemple « resultat.csv ».",
               errno.ENOTDIR: "un élément du chemin n'est pas un dossier. Vérifiez le chemin.",
               errno.ENOENT: "fichier ou dossier introuvable. Vérifiez le chemin.",
               errno.EEXIST: "un fichier de ce nom existe déjà. Choisissez un autre nom ou supprimez-le.",
               errno.ENAMETOOLONG: "nom de fichier trop long. Choisissez un nom plus court."}
    return f"« {name} » : {reasons.get(exc.errno, 'erreur du système de fichiers. Vérifiez le chemin et les droits.')}"
