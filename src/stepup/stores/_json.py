"""Records as JSON text, as the SQLite and Redis stores write and read them.

With orjson installed (the ``speedups`` extra, and the ``redis`` one), a record is written
some ten times faster than by the standard library's encoder and read two to three times
faster: the audit trail's head alone (2 KB) is written and read on every flow's append.
Without it, the json module does it all. What orjson declines, the json module answers
as before, so a store takes and reads what it did either way:

- types JSON has no word for (a date, a dataclass) are passed through to raise the
  standard library's ``TypeError``, not written as orjson would write them;
- a subclass of ``str`` or ``int`` (a str enum) is written as its value, by the standard
  library;
- a key that is not a string, or a string with a lone surrogate, is written by the
  standard library; text orjson cannot read (``NaN``, an escaped lone surrogate) is read
  by it, and so is text with a run of twenty digits, which may be an integer past 64
  bits (orjson reads one as a float).

Two differences remain, for values no record of stepup's holds: NaN and the infinities are
written as ``null``, and a UUID or a plain (not str or int) enum member, which the json
module refuses, is written as its string or its value.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["dumps", "loads"]

#: the standard library's, compact (``json.dumps`` with options builds an encoder per call).
_encode = json.JSONEncoder(separators=(",", ":")).encode
_decode = json.JSONDecoder().decode


def _std_dumps(value: Any) -> str:
    """``value`` as compact JSON text (``TypeError`` for what JSON cannot write)."""
    return _encode(value)


def _std_loads(text: str | bytes) -> Any:
    """The value of JSON ``text`` (``ValueError`` for text that is not JSON)."""
    return _decode(text.decode() if isinstance(text, bytes) else text)


try:
    import orjson
except ImportError:  # without the speedups: the json module alone
    dumps, loads = _std_dumps, _std_loads
else:
    _OPTIONS = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS
    _fast_dumps, _fast_loads, _Unread = orjson.dumps, orjson.loads, orjson.JSONDecodeError
    #: each digit as "0", anything else a space: a run of twenty digits is then one ``in``
    #: away (a regular expression took ten times as long on a trail's head).
    _DIGITS, _RUN = bytes(48 if 48 <= c <= 57 else 32 for c in range(256)), b"0" * 20

    def dumps(value: Any) -> str:
        """``value`` as compact JSON text (``TypeError`` for what JSON cannot write)."""
        try:
            return _fast_dumps(value, option=_OPTIONS).decode()
        except TypeError:
            return _encode(value)

    def loads(text: str | bytes) -> Any:
        """The value of JSON ``text`` (``ValueError`` for text that is not JSON)."""
        raw = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
        if _RUN in raw.translate(_DIGITS):
            return _std_loads(text)  # perhaps an integer orjson would read as a float
        try:
            return _fast_loads(raw)
        except _Unread:  # a lone surrogate among them: not UTF-8
            return _std_loads(text)
