"""The grid's encoding has one definition (styletx/music/encoding.py): no copy of its codes
elsewhere in the package, found by a search of the code."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np

from styletx.music import encoding
from styletx.music.chords import QUALITIES, Chord

PACKAGE = Path(encoding.__file__).resolve().parents[1]
CODES = {name for name, value in vars(encoding).items() if name.isupper() and isinstance(value, int)}


def _copies(path: Path) -> list[str]:
    """Encoding facts spelled in ``path``: a code given its own literal value, a metadata column
    read by number, the chord-token layout decoded by hand, a code's literal clip bound."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        where = f"{path.relative_to(path.parents[1])}:{getattr(node, 'lineno', 0)}"
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                and any(isinstance(t, ast.Name) and t.id in CODES for t in node.targets)):
            found.append(f"{where}: {ast.unparse(node)}")
        elif (isinstance(node, ast.Subscript) and "meta" in ast.unparse(node.value)
              and isinstance(node.slice, ast.Tuple) and isinstance(node.slice.elts[-1], ast.Constant)):
            found.append(f"{where}: {ast.unparse(node)} (a metadata column by number)")
        elif (isinstance(node, ast.BinOp) and isinstance(node.op, ast.FloorDiv | ast.Mod)
              and "len(QUALITIES)" in ast.unparse(node.right)):
            found.append(f"{where}: {ast.unparse(node)} (the chord-token layout)")
        elif (isinstance(node, ast.Call) and ast.unparse(node.func).endswith("clip")
              and any(isinstance(a, ast.Constant) and a.value == encoding.N_BAR_LENGTHS - 1
                      for a in node.args)):
            found.append(f"{where}: {ast.unparse(node)} (the last bar-length code)")
        elif (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult)
              and isinstance(node.left, ast.Constant) and node.left.value == 12
              and isinstance(node.right, ast.Compare)):
            found.append(f"{where}: {ast.unparse(node)} (the key code's mode)")
    return found


def test_no_encoding_literal_outside_encoding_py() -> None:
    found = [hit for path in sorted(PACKAGE.rglob("*.py")) if path.name != "encoding.py"
             for hit in _copies(path)]
    assert not found, "encoding facts outside styletx/music/encoding.py:\n" + "\n".join(found)


def test_the_search_finds_each_kind_of_copy(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("UNKNOWN = 3\nx = meta[:, 1]\nr = (c - 1) // len(QUALITIES)\n"
                   "b = np.clip(bars, 0, 15)\nk = (k % 12 + s) % 12 + 12 * (k >= 12)\n")
    assert len(_copies(bad)) == 5


def test_the_chord_token_layout_round_trips() -> None:
    assert len(QUALITIES) == encoding.N_CHORD_QUALITIES
    for root in range(12):
        for q, name in enumerate(QUALITIES):
            token = Chord(root, name).token
            assert token == encoding.chord_token(root, q)
            assert encoding.chord_root_quality(token) == (root, q)
            assert Chord.from_token(token) == Chord(root, name)
    codes = np.array([encoding.key_code(t, m) for m in (False, True) for t in range(12)])
    assert list(codes) == list(range(encoding.N_KEYS))
    assert list(encoding.transpose_key(codes, 14)[[0, 11, 12, 23]]) == [2, 1, 14, 13]
