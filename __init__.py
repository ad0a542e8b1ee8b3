"""Guard against the namespace-package trap; this is not the styletx package.

Python runs this file only when it imports the *clone folder itself* as ``styletx``:
that happens when the current folder is the clone's parent and the clone is named
``styletx``. Without this file the folder would be an empty namespace package and
``styletx.load_style`` would raise AttributeError. Here the real package (the ``styletx``
folder next to this file) is loaded in its place.
"""

import os as _os

__path__ = [_os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "styletx")]
__file__ = _os.path.join(__path__[0], "__init__.py")
with open(__file__, encoding="utf-8") as _f:
    exec(compile(_f.read(), __file__, "exec"))
