"""Styles as the application sees them: the default style, and the names it uses.

A style is a folder (its files and their format: :mod:`styletx.stylefolder.format`)
found among the installed styles (:mod:`styletx.stylefolder.installed`). This module
is the application's name for both, so ``styletx.styles.load_style`` and the like keep
their place; the facts live in :mod:`styletx.stylefolder`.
"""

from __future__ import annotations

from styletx.stylefolder.format import Style, StyleInfo
from styletx.stylefolder.installed import (
    USER_STYLES_ENV,
    load_style,
    read_info,
    remove_user_style,
    search_roots,
    shipped_root,
    shipped_styles,
    style_directory,
    style_dirs,
    style_origins,
    styles,
    user_styles_dir,
)

DEFAULT_STYLE = "bach"
"""The style of ``render``, ``batch`` and :func:`styletx.transfer` when none is named."""

__all__ = [
    "DEFAULT_STYLE", "USER_STYLES_ENV", "Style", "StyleInfo", "load_style", "read_info",
    "remove_user_style", "search_roots", "shipped_root", "shipped_styles", "style_directory",
    "style_dirs", "style_origins", "styles", "user_styles_dir",
]
