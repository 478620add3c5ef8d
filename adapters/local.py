"""The local-folder transport: outputs staged under a hidden temporary name in the
destination folder, fsynced, and renamed into place only when the whole input file
has been accepted (spool.atomic.commit). Names are deterministic per input file and
destination, so a retry replaces instead of duplicating."""

from __future__ import annotations

from pathlib import Path

from spool.atomic import TempWriter, commit, remove_stale_temps, temp_path

__all__ = ["LocalFolder", "StagedFile", "output_name"]


def output_name(file_id: str, destination: str, extension: str) -> str:
    """The deterministic output name for one input file and destination."""
    return f"{file_id}.{destination}.{extension}"


class StagedFile(TempWriter):
    """An output being written under a temporary name beside its final one: appended to, then
    finished (fsynced) or discarded (spool.atomic.TempWriter)."""

    def __init__(self, folder: Path, final_name: str) -> None:
        self.final = folder / final_name
        super().__init__(temp_path(folder, final_name), buffering=1 << 20)


class LocalFolder:
    """A destination that is a folder on this machine (usually <spool>/outbox/<name>)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def stage(self, final_name: str) -> StagedFile:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return StagedFile(self.folder, final_name)

    @staticmethod
    def commit(temp: Path, final: Path) -> None:
        commit(temp, final)

    def discard_stale(self, file_id: str) -> list[Path]:
        """Remove temporaries a crashed run left for one input file (never another file's)."""
        return remove_stale_temps(self.folder, prefix=f"{file_id}.")
