"""Local files on their way into a store go if recording them fails."""

from __future__ import annotations

from contextlib import nullcontext

import pytest

from whoru.local_files import removed_unless_committed


def test_removed_unless_committed_removes_stored_files_only_when_the_block_fails(tmp_path):
    spooled, folder = tmp_path / "part.bin", tmp_path / "unpacked"
    for attempt in ("commits", "fails"):
        spooled.write_bytes(b"x")
        (folder / "deep").mkdir(parents=True, exist_ok=True)
        (folder / "deep" / "a.jpg").write_bytes(b"x")
        with pytest.raises(RuntimeError) if attempt == "fails" else nullcontext():
            with removed_unless_committed(spooled, folder, tmp_path / "never-written"):
                if attempt == "fails":
                    raise RuntimeError("the database refused the rows")
        assert spooled.exists() == folder.exists() == (attempt == "commits"), attempt
