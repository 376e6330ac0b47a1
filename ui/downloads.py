"""A prepared download stays fetchable until its session's next rerun.

``st.download_button`` with a callable (``data=lambda: ...``) makes the file only when
the button is pressed: the browser asks the server to run the callable, gets back a
``/media/...`` address, and then fetches it. Streamlit (1.67) stores that file without
naming the session it was made for, so for the media manager nobody uses it: the next
clean-up of unused files, which runs at the end of *any* session's script run, marks it,
and the one after deletes it. On a server with a class, two other students' reruns
between "prepared" and "fetched" (a few tenths of a second) and the download is a 404.

:func:`keep_prepared_downloads` makes the media manager record each prepared file as used
by the session that asked for it, under its own slot next to the button's (the button's
slot keeps the callable, so a second press makes the file again). A session's files are
released when that session runs again, as for every other file it shows.
"""

from __future__ import annotations

import functools
from typing import Any

_MARK = "_playground_keeps_prepared_downloads"
SLOT_SUFFIX = ":prepared"  # the prepared file's slot beside the button's


def _file_id(url: str) -> str:
    """The stored file's id from the address the in-memory storage hands out."""
    return url.rsplit("/", 1)[-1].split(".", 1)[0]


def keep_prepared_downloads(manager: Any) -> bool:
    """Wrap ``manager.execute_deferred`` once per manager (idempotent, thread-safe enough:
    a second wrap is refused by the mark). Returns False when this Streamlit's media
    manager does not look as expected, leaving it as it is."""
    if getattr(manager, _MARK, False):
        return True
    needed = ("execute_deferred", "_deferred_callables", "_files_by_session_and_coord", "_lock")
    if not all(hasattr(manager, name) for name in needed):
        return False
    original = manager.execute_deferred

    @functools.wraps(original)
    def execute_deferred(file_id: str) -> str:
        with manager._lock:
            entry = manager._deferred_callables.get(file_id)
        url = original(file_id)
        if entry is None:
            return url
        prepared = _file_id(url)
        with manager._lock:
            sessions = manager._files_by_session_and_coord
            # only a session that is still there and still shows the button: a session
            # that has gone (or is rerunning) must not be brought back by this entry
            slots = sessions.get(entry["session_id"])  # .get: never a new defaultdict entry
            if slots is not None and prepared in manager._file_metadata:
                slots[entry["coordinates"] + SLOT_SUFFIX] = prepared
        return url

    manager.execute_deferred = execute_deferred
    setattr(manager, _MARK, True)
    return True


def install() -> None:
    """Apply :func:`keep_prepared_downloads` to this server's media manager (a no-op
    outside a running server, e.g. under AppTest's runtime it applies too)."""
    from streamlit import runtime

    if runtime.exists():
        keep_prepared_downloads(runtime.get_instance().media_file_mgr)
