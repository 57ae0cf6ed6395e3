"""What the 会商 page shows that is not a chart: the snapshot's shareable link."""

from __future__ import annotations

import urllib.parse


def full_link(page_url: str | None, snap, presentation: bool = False) -> str:
    """The snapshot's whole address, built from the address the page was opened at (scheme, host and any base
    path), keeping presentation mode: a link pasted into a chat opens the same frozen view on any machine.

    Parameters
    ----------
    page_url : the page's own URL (``st.context.url``); without one the link is relative.
    snap : a :class:`regionair.meeting.MeetingSnapshot`.
    presentation : add ``pres=1`` so that the link opens in presentation mode.
    """
    parts = urllib.parse.urlsplit(page_url or "")
    path = parts.path.rstrip("/")
    root = path[: -len("/meeting")] if path.endswith("/meeting") else path
    base = f"{parts.scheme}://{parts.netloc}{root}" if parts.netloc else ""
    return snap.permalink(base) + ("&pres=1" if presentation else "")
