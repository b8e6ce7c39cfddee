"""JSON bodies written by orjson: the same JSON as Flask's provider (sorted keys, UTF-8 text, Flask's
conversions of dates, dataclasses and decimals), a few times faster (issue 18: a 50-item page must
cost a few ms of CPU, and the encoder was a fifth of it).

What orjson cannot write the way Flask would (an integer beyond 64 bits, a key that is not a string)
goes through Flask's own encoder; so does an indented body (debug mode). Request bodies are still
parsed by the standard library: the JSON guard (api/bodies.py) relies on its behaviour.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider

_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class OrjsonProvider(DefaultJSONProvider):
    ensure_ascii = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return self.dumps_bytes(obj, **kwargs).decode("utf-8")

    def dumps_bytes(self, obj: Any, **kwargs: Any) -> bytes:
        """The body as UTF-8 bytes (what a response holds), without a round trip through str."""
        if not kwargs.get("indent") and kwargs.get("sort_keys", True) and self.sort_keys:
            try:
                return orjson.dumps(obj, default=kwargs.get("default", self.default), option=_OPTIONS)
            except (orjson.JSONEncodeError, TypeError):
                pass
        return super().dumps(obj, **kwargs).encode("utf-8")

    def response(self, *args: Any, **kwargs: Any):
        if (self.compact is None and self._app.debug) or self.compact is False:
            return super().response(*args, **kwargs)
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(self.dumps_bytes(obj) + b"\n", mimetype=self.mimetype)
