"""The states of an input file, each with its folder and its names: written once, used by the
pipeline, the ledger, retention, reports, the console and the tests.

A file's states::

    claiming → claimed → processing → delivering → delivered → archived | rejected
                    ╰→ duplicate            ╰→ quarantined (file refused, or the worker failed)

An unfinished file's input is in ``work/``; a finished one's is in the folder of its state.
The words: *rejected* is a file none of whose records was acceptable (``rejected/``);
*quarantined* is a file refused as a whole or one the gateway would not take
(``quarantine/``); a record refused inside an otherwise good file is a *rejected record*.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ACCEPTED_STATES", "FOLDER_LABELS_JA", "FileState", "TERMINAL_STATES"]


class FileState(StrEnum):
    """Where a file is in the pipeline (the ledger's ``files.state``)."""

    CLAIMING = "claiming"
    CLAIMED = "claimed"
    PROCESSING = "processing"
    DELIVERING = "delivering"
    DELIVERED = "delivered"
    ARCHIVED = "archived"
    REJECTED = "rejected"
    QUARANTINED = "quarantined"
    DUPLICATE = "duplicate"

    @property
    def terminal(self) -> bool:
        """Finished: the input is in its state's folder and nothing more happens to it."""
        return self in TERMINAL_STATES

    @property
    def folder(self) -> str:
        """The spool folder the input is in (``work`` while the file is unfinished)."""
        return _FOLDERS.get(self, "work")

    @property
    def label_ja(self) -> str:
        """The state as operators read it (console, command line)."""
        return _LABELS_JA[self]

    @classmethod
    def of_folder(cls, folder: str) -> FileState:
        """The terminal state whose folder is ``folder`` (ValueError for another name)."""
        for state, name in _FOLDERS.items():
            if name == folder:
                return state
        raise ValueError(
            f"{folder!r} is the folder of no finished state: expected one of {', '.join(_FOLDERS.values())}"
        )


_FOLDERS: dict[FileState, str] = {
    FileState.ARCHIVED: "archive",
    FileState.REJECTED: "rejected",
    FileState.QUARANTINED: "quarantine",
    FileState.DUPLICATE: "duplicate",
}

_LABELS_JA: dict[FileState, str] = {
    FileState.CLAIMING: "受付中",
    FileState.CLAIMED: "受付済み",
    FileState.PROCESSING: "処理中",
    FileState.DELIVERING: "送付中",
    FileState.DELIVERED: "送付済み",
    FileState.ARCHIVED: "処理済み",
    FileState.REJECTED: "不備ファイル",
    FileState.QUARANTINED: "隔離",
    FileState.DUPLICATE: "重複",
}

#: Finished states, in the order reports and the purge list them.
TERMINAL_STATES: tuple[FileState, ...] = tuple(_FOLDERS)
#: Content in one of these states counts as processed: the same bytes again are a duplicate.
ACCEPTED_STATES: tuple[FileState, ...] = (
    FileState.PROCESSING,
    FileState.DELIVERING,
    FileState.DELIVERED,
    FileState.ARCHIVED,
    FileState.REJECTED,
)

#: The folders an input can be in, as a report's 保管先 names them.
FOLDER_LABELS_JA: dict[str, str] = {
    "archive": "保管済み",
    "rejected": "不備ファイル",
    "quarantine": "隔離",
    "duplicate": "重複",
    "work": "処理中",
}
