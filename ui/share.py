"""The "Share these settings" panel every page ends with.

Its contents are drawn only once it is opened: a code box makes the browser load
Streamlit's syntax highlighter (about half a megabyte compressed), which a student
opening the teacher's link never needs.
"""

from __future__ import annotations

import streamlit as st

from .state import UrlSettings


def share_panel(url: UrlSettings, page: str, key: str) -> None:
    """The page's link and its classroom variant, in copyable boxes, when opened.

    ``page`` names the page in the caption ("the Playground"); ``key`` keeps the
    panel's open state (one per page: session state is shared across pages).
    """
    box = st.expander("Share these settings", icon=":material/link:", key=key, on_change="rerun")
    if not box.open:
        return
    base = st.context.url
    with box:
        st.caption(f"This link reopens {page} exactly as it is now.")
        st.code(url.link(base), language=None, wrap_lines=True)
        st.caption("For a projector: the same settings with the controls tucked away.")
        st.code(url.link(base, classroom="1"), language=None, wrap_lines=True)
