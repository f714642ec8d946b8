"""The journals of an executor: its own (`LambdaExecutor(journal=...)`) and those of single calls
(`map(..., journal=...)`), opened with its resume policy and closed with a warning of the outcomes
they could not write."""

from __future__ import annotations

import os
import warnings
from typing import Optional, Union

from ._core import Journal


class Journals:
    def __init__(self, path: Union[str, os.PathLike[str], None], retry_failed: bool, resume_in_flight: bool) -> None:
        self._retry_failed = retry_failed
        self._resume_in_flight = resume_in_flight
        self.own = self.open(path)
        # Outcomes the journals of single calls could not write (the executor's own counts its own).
        self._unrecorded_by_calls = 0

    def open(self, path: Union[str, os.PathLike[str], None]) -> Optional[Journal]:
        if path is None:
            return None
        return Journal(path, retry_failed=self._retry_failed, resume_in_flight=self._resume_in_flight)

    def close(self, journal: Journal) -> None:
        """Closes a journal, warning of the outcomes it could not write (counted in `unrecorded`)."""
        journal.close()
        unrecorded, why = journal.unrecorded()
        if unrecorded:
            if journal is not self.own:
                self._unrecorded_by_calls += unrecorded
            warnings.warn(
                f"the outcomes of {unrecorded} calls could not be written to the journal {journal.path} ({why}): a "
                f"rerun sends those calls again",
                RuntimeWarning,
                stacklevel=4,
            )

    def unrecorded(self) -> int:
        """The outcomes not written so far, by the executor's journal and those of single calls."""
        return self._unrecorded_by_calls + (self.own.unrecorded()[0] if self.own is not None else 0)
