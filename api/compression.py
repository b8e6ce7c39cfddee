"""gzip both ways for JSON: answers to clients that accept it (a phone's directory sync shrinks about
eightfold), and request bodies a phone sends gzipped (``Content-Encoding: gzip``: an outbox of 200
records, about 100 KB of JSON, goes up as about 7 KB over a poor network)."""

from __future__ import annotations

import gzip
import io
import zlib

from flask import Flask, Response, request
from flask_smorest import abort

#: Smaller bodies fit one packet either way; compressing them costs more than it saves.
MIN_BYTES = 1024
#: zlib's default: a 500-enterprise sync page (340 KB) in about 3 ms, level 9 saves 3 % more in twice that.
LEVEL = 6
_JSON_TYPES = frozenset({"application/json", "application/problem+json", "application/geo+json"})


#: environ key: why a gzipped request body could not be read (status, message); the app answers it.
_REFUSED = "fieldwatch.request_body_refused"


def _is_json(content_type: str) -> bool:
    mimetype = content_type.split(";", 1)[0].strip().lower()
    return mimetype in _JSON_TYPES or mimetype.endswith("+json")


def inflate(data: bytes, limit: int) -> bytes:
    """The gzip (or raw zlib) stream ``data`` decompressed, never past ``limit`` bytes.

    ValueError naming why when it is not gzip, is cut short, or would grow past ``limit`` (a few
    KB that inflate to gigabytes are refused after ``limit`` bytes, not after the memory is gone).
    """
    inflater = zlib.decompressobj(wbits=47)  # 32 + 15: a gzip or zlib header, found automatically
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise ValueError(f"the body is not valid gzip ({exc})") from None
    if len(out) > limit:
        raise OverflowError(f"the body inflates to more than {limit} bytes")
    if not inflater.eof or inflater.unused_data:
        raise ValueError("the gzip stream is cut short or followed by other bytes")
    return out


class GzipRequestBodies:
    """WSGI middleware: a JSON request body sent with ``Content-Encoding: gzip`` reaches the app
    plain (its Content-Length the inflated size, so the JSON guard's limits apply to what the
    app will parse). Other encodings of JSON bodies, malformed gzip and bodies that inflate past
    ``limit`` are refused by the app as problems (415, 400, 413). Other bodies (tus, multipart)
    are left as they are."""

    def __init__(self, wsgi_app, limit: int):
        self.wsgi_app, self.limit = wsgi_app, limit

    def __call__(self, environ, start_response):
        encoding = environ.get("HTTP_CONTENT_ENCODING", "").strip().lower()
        if encoding and encoding != "identity" and _is_json(environ.get("CONTENT_TYPE", "")):
            environ = dict(environ)
            body = b""
            if encoding not in ("gzip", "x-gzip"):
                environ[_REFUSED] = (415, f"Content-Encoding {encoding!r} is not read: send gzip or nothing.")
            else:
                try:
                    length = int(environ.get("CONTENT_LENGTH") or 0)
                    body = inflate(environ["wsgi.input"].read(min(length, self.limit) if length else self.limit),
                                   self.limit)
                except OverflowError as exc:
                    environ[_REFUSED] = (413, f"Request bodies are limited to {self.limit} bytes: {exc}.")
                except ValueError as exc:
                    environ[_REFUSED] = (400, f"Content-Encoding: gzip, but {exc}.")
            for sent_as in ("HTTP_CONTENT_ENCODING", "HTTP_TRANSFER_ENCODING", "wsgi.input_terminated"):
                environ.pop(sent_as, None)  # the body is now a plain one of known length
            environ["CONTENT_LENGTH"] = str(len(body))
            environ["wsgi.input"] = io.BytesIO(body)
        return self.wsgi_app(environ, start_response)


def init_request_inflation(app: Flask, limit: int) -> None:
    """Read gzipped JSON request bodies (``GzipRequestBodies``) of at most ``limit`` bytes inflated."""
    app.wsgi_app = GzipRequestBodies(app.wsgi_app, limit)

    @app.before_request
    def _refused_body():
        refused = request.environ.get(_REFUSED)
        if refused is not None:
            abort(refused[0], message=refused[1])


def init_compression(app: Flask) -> None:
    """Register the gzip step. Register it before every other ``after_request`` function: Flask runs
    them in reverse order, so it runs last and the others (the idempotency store) see the plain body."""

    @app.after_request
    def _gzip(response: Response) -> Response:
        if (response.mimetype not in _JSON_TYPES or response.status_code in (204, 206, 304)
                or response.direct_passthrough or response.is_streamed
                or "Content-Encoding" in response.headers
                # A strong validator names one representation; leave such answers as they are.
                or "ETag" in response.headers
                or response.content_length is None or response.content_length < MIN_BYTES):
            return response
        response.vary.add("Accept-Encoding")
        if request.method == "HEAD" or request.accept_encodings["gzip"] <= 0:
            return response
        # mtime=0: the same body compresses to the same bytes (no timestamp in the header).
        response.set_data(gzip.compress(response.get_data(), LEVEL, mtime=0))
        response.headers["Content-Encoding"] = "gzip"
        return response
