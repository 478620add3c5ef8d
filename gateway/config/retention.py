"""The ``[retention]`` table: how long the gateway keeps each kind of thing before
gateway.datapath.retention erases it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["RetentionConfig"]


class RetentionConfig(BaseModel):
    """How long the gateway keeps each kind of thing, in days (the ``[retention]`` table).

    The PIA names no number of days: it promises erasure when the retention period the
    city's 文書管理規程 sets has ended. The defaults follow the money, and a city sets
    its own values from its 保存年限表:

    - ``archive_days = 550`` (inputs in ``archive/`` and ``rejected/``): a file received
      on the first day of a fiscal year (1 April) is evidence until that year's settlement
      is closed: the fiscal year (365 days), the 出納整理期間 to 31 May (61 days), the 決算
      sent to the 監査委員 by 31 August (地方自治法 第233条) and approved at the autumn
      council session — about 18 months, 550 days. 400 days (a year plus a month) would
      erase April's files before the 出納整理期間 even ends.
    - ``quarantine_days = 180``: a refused file was never delivered; half a year covers the
      sender's corrected resend, the monthly reconciliations and an operator's reprocess.
    - ``duplicate_days = 90``: a duplicate's content is kept in ``archive/`` under the
      earlier id already; three months is time enough to force a reprocess of a
      duplicate that was not one.
    - ``reports_days = 550``: reports go with their input (a shorter value removes
      reports earlier; a longer one has no effect past the input's own period).
    - ``outbox_days = 90``: outputs are copies of data now held by the receiving system;
      a quarter covers two monthly reconciliations if an output has to be sent again.
    - ``audit_log_days = 1830``: five years, the limitation period of local-tax
      collection (地方税法 第18条), so that the trail of every file — including its
      ``erased`` event — outlives the file; individual numbers are masked in the log
      already, but file names are logged as received: a city that counts them as
      personal data sets this to ``archive_days``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(default=True, description="false: nothing is erased (e.g. during a legal hold or an audit)")
    archive_days: int = Field(default=550, ge=1, le=36500, description="inputs in archive/ and rejected/")
    quarantine_days: int = Field(default=180, ge=1, le=36500, description="inputs in quarantine/")
    duplicate_days: int = Field(default=90, ge=1, le=36500, description="inputs in duplicate/")
    reports_days: int = Field(default=550, ge=1, le=36500, description="reports/<id>.json, .csv, .html")
    outbox_days: int = Field(
        default=90, ge=1, le=36500, description="delivered outputs still in an outbox folder (or its sent/)"
    )
    audit_log_days: int = Field(default=1830, ge=1, le=36500, description="lines of the audit log")

    def days_for(self, state: str) -> int:
        """The retention of a finished file's input, by its state."""
        return {
            "archived": self.archive_days,
            "rejected": self.archive_days,
            "quarantined": self.quarantine_days,
            "duplicate": self.duplicate_days,
        }[state]
