"""User and stored text shown as text: Streamlit renders every string as Markdown (links, images,
``:red[...]`` colours, ``:material/...:`` icons, LaTeX), so a value that comes from a link, an upload,
a stored title or an error message is escaped before it reaches ``st.markdown``/``st.error``/… ."""

from __future__ import annotations

import re

# CommonMark: a backslash before any ASCII punctuation makes it literal; Streamlit's extensions
# (colour/icon directives ``:x[...]``, ``$...$`` maths, ``~~``) start with ':', '$', '~'.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|:$~&=\"'])")


def md(value: object) -> str:
    """``value`` as literal text inside Markdown (every Markdown and Streamlit-directive character escaped;
    newlines kept as spaces so a value cannot start a heading, list or table)."""
    text = " ".join(str(value).splitlines())
    return _MD_SPECIAL.sub(r"\\\1", text)


def md_args(**values: object) -> dict[str, str]:
    """Keyword arguments for :func:`regionair.core.i18n.t` with every value escaped (for untrusted values)."""
    return {k: md(v) for k, v in values.items()}
