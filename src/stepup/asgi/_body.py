"""The body of a request that stepup stops, even when FastAPI has parsed it already.

Starlette's ``Request`` keeps the body it reads (``request.body()``) and the form it
parses, and FastAPI hands its dependencies the very ``Request`` its route reads, so a
JSON body read by FastAPI is there for stepup too. A form (``Form(...)``, ``File(...)``)
is different: FastAPI parses it from the stream *before* the dependencies run and keeps
only the parsed form, so ``require()`` found the stream consumed ("Stream consumed", a
500). For such a request stepup writes the form out again, each field whole and in
order, files included, and keeps those bytes where Starlette keeps a body, so whatever
reads the request afterwards sees the same body; the replay after approval sends them
through the app again, which parses the same fields from them.
"""

from __future__ import annotations

import codecs
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

from ..web import media_type

# The parser Starlette reads a multipart body's Content-Type with, under either of its names.
if TYPE_CHECKING:
    from python_multipart.multipart import parse_options_header
else:
    try:
        from python_multipart.multipart import parse_options_header
    except ModuleNotFoundError:  # python-multipart before 0.0.13
        from multipart.multipart import parse_options_header

__all__ = ["body_of"]


async def body_of(request: Request, limit: int) -> tuple[bytes, str] | None:
    """The request's body and its ``Content-Type``, as stepup keeps them to replay it, or
    ``None`` for a body over ``limit`` bytes, of which no more than ``limit`` bytes were
    read (a declared ``Content-Length`` over it: none at all), so that no client can make
    the server hold a body of any size.

    :param request: the request (in FastAPI, the route's own ``Request`` object).
    :param limit: the most bytes stepup reads (``max_resume_body``).
    :raises RuntimeError: Starlette's own, for a stream that something other than a form
        parser consumed (an app's middleware that read it through a ``Request`` of its own).
    """
    content_type = request.headers.get("content-type", "")
    form = getattr(request, "_form", None)
    if hasattr(request, "_body"):  # read already, by the app or FastAPI
        body: bytes = request._body
    elif form is None or not getattr(request, "_stream_consumed", False):
        read = await _read(request, limit)
        if read is None:
            return None
        body = request._body = read  # where Starlette's Request keeps it: the view reads it too
    else:
        written = await _write_form(form, content_type, limit)
        if written is None:
            return None
        body, written_type = written
        if written_type == content_type and len(body) <= limit:
            # Where Starlette's Request keeps the body it read: later reads get these bytes.
            request._body = body
        content_type = written_type
    return (body, content_type) if len(body) <= limit else None


async def _read(request: Request, limit: int) -> bytes | None:
    """The body from the stream, or ``None`` once it is found longer than ``limit``."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def _write_form(form: FormData, content_type: str, limit: int) -> tuple[bytes, str] | None:
    """A parsed form as a body of its own media type, and that body's ``Content-Type``; or
    ``None`` for a form found longer than ``limit`` before any of it is written."""
    multipart = media_type(content_type) == "multipart/form-data"
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary", b"")
    # Each part is framed by "--", its boundary (or one of 32 characters of stepup's) and
    # two CR LF; a urlencoded pair by "=" and "&".
    framing = min(len(boundary), 32) + 6 if multipart else 1
    if await _over(form, framing, limit):
        return None
    if not multipart:
        # Starlette reads field names and values percent-decoded as UTF-8, as urlencode writes them.
        return urlencode(list(form.multi_items())).encode("ascii"), content_type
    charset = _charset(params.get(b"charset"))
    parts = [await _part(name, value, charset, limit) for name, value in form.multi_items()]
    if not boundary or any(b"\r\n--" + boundary in data for _, data in parts):
        # Only for a charset that is not ASCII-compatible could a value written again hold
        # the original delimiter: such a body gets a boundary of its own.
        boundary = secrets.token_hex(16).encode("ascii")
        content_type = f"multipart/form-data; boundary={boundary.decode('ascii')}"
        if charset != "utf-8":
            content_type += f"; charset={charset}"
    body = b"".join(b"--%s\r\n%s\r\n%s\r\n" % (boundary, head, data) for head, data in parts)
    return body + b"--%s--\r\n" % boundary, content_type


async def _over(form: FormData, framing: int, limit: int) -> bool:
    """Whether ``form`` written out would pass ``limit`` bytes, told from no more than its
    size (each character of a field at least a byte, a file's bytes and headers, ``framing``
    bytes a part), so that a form too large is refused before a copy of it is made. A file
    whose ``size`` Starlette did not count is read no further than shows it too large."""
    total = 0
    for name, value in form.multi_items():
        total += framing
        if isinstance(value, UploadFile):  # its headers (its name among them) as they came
            total += sum(len(key) + len(val) + 4 for key, val in value.headers.raw)
            total += value.size if value.size is not None else await _measure(value, max(limit - total + 1, 0))
        else:
            total += len(name) + len(value)
        if total > limit:
            return True
    return False


async def _measure(file: UploadFile, most: int) -> int:
    """The size of ``file``, or of its first ``most`` bytes if it is longer."""
    await file.seek(0)
    size = len(await file.read(most))
    await file.seek(0)
    return size


def _charset(value: bytes | None) -> str:
    """The codec Starlette decodes a multipart body's fields with."""
    if not value:
        return "utf-8"
    try:
        return codecs.lookup(value.decode("latin-1")).name
    except LookupError:
        return "latin-1"


def _encode(text: str, charset: str) -> bytes:
    # A field Starlette could not decode with the charset it read as Latin-1; written as
    # Latin-1 it is read back as the same text.
    try:
        return text.encode(charset)
    except UnicodeEncodeError:
        return text.encode("latin-1")


async def _part(name: str, value: Any, charset: str, limit: int) -> tuple[bytes, bytes]:
    """One part: its header lines, and its content (of a file, no more than ``limit`` bytes
    and one: enough to find the body too long)."""
    if isinstance(value, UploadFile):
        # The part's own headers as they came (name, file name, content type).
        head = b"".join(b"%s: %s\r\n" % (key, val) for key, val in value.headers.raw)
        await value.seek(0)
        data = await value.read(limit + 1)
        await value.seek(0)  # the endpoint reads the file from its start
        return head, data
    quoted = _encode(name, charset).replace(b"\\", b"\\\\").replace(b'"', b'\\"')
    return b'content-disposition: form-data; name="%s"\r\n' % quoted, _encode(str(value), charset)
