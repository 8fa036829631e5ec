"""The Bot API wire format: request fields as PTB sends them, and error answers.

Calls are ``POST {base}/bot{token}/{method}`` with form fields (JSON-encoded when
structured), multipart with files, or a JSON body. Answers are ``{"ok": true,
"result": ...}`` or ``{"ok": false, "error_code": N, "description": ...,
"parameters": {...}}`` with HTTP status N.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from tests.fakes.bot_api.records import JSON
from tests.fakes.telegram_rules import Rejected


class Params:
    """Request fields as PTB sends them: strings, JSON-encoded when structured, or native JSON."""

    def __init__(self, values: JSON, files: dict[str, tuple[str, bytes]]) -> None:
        self.values = values
        self.files = files

    def has(self, name: str) -> bool:
        """True when the field or an uploaded file of that name was sent."""
        return self.values.get(name) is not None or name in self.files

    def get_str(self, name: str) -> str | None:
        """A string field, or None when absent."""
        value = self.values.get(name)
        if value is None or isinstance(value, str):
            return value
        raise Rejected(400, f"Bad Request: field {name} must be a string")

    def get_int(self, name: str) -> int | None:
        """An integer field (native or a decimal string), or None when absent."""
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            raise Rejected(400, f"Bad Request: field {name} must be an integer")
        if isinstance(value, int):
            return value
        try:
            return int(str(value))
        except ValueError:
            raise Rejected(400, f"Bad Request: field {name} must be an integer") from None

    def get_bool(self, name: str) -> bool | None:
        """A boolean field (native or ``true``/``false``), or None when absent."""
        value = self.values.get(name)
        if value is None:
            return None
        if value in (True, "true"):
            return True
        if value in (False, "false"):
            return False
        raise Rejected(400, f"Bad Request: field {name} must be a boolean")

    def get_json(self, name: str) -> Any:
        """A structured field, decoded when it arrived JSON-encoded in a form."""
        value = self.values.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise Rejected(400, f"Bad Request: can't parse {name} JSON object") from None


async def read_params(request: web.Request) -> Params:
    """The fields and uploaded files of one call, from its query, form or JSON body."""
    values: JSON = dict(request.query)
    files: dict[str, tuple[str, bytes]] = {}
    if request.content_type == "application/json":
        body = await request.json()
        if not isinstance(body, dict):
            raise Rejected(400, "Bad Request: request body must be a JSON object")
        values.update(body)
    elif request.can_read_body:
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                files[name] = (value.filename, value.file.read())
            else:
                values[name] = value
    return Params(values, files)


def error_response(refusal: Rejected) -> web.Response:
    """Telegram's error answer: the code as HTTP status, the description, any parameters."""
    body: JSON = {"ok": False, "error_code": refusal.code, "description": refusal.description}
    if refusal.parameters:
        body["parameters"] = refusal.parameters
    return web.json_response(body, status=refusal.code)
