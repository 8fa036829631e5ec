"""Files: getFile, and the download route ``/file/bot{token}/{path}`` it points to."""

from __future__ import annotations

from aiohttp import web

from tests.fakes.bot_api.records import JSON
from tests.fakes.bot_api.state import ServerState
from tests.fakes.bot_api.wire import Params, error_response
from tests.fakes.telegram_rules import Rejected


class FileMethods(ServerState):
    """Stored documents and photos, read back by file_id and downloaded by path."""

    async def _get_file(self, params: Params) -> JSON:
        file_id = params.get_str("file_id") or ""
        stored = self._files.get(file_id)
        if stored is None:
            raise Rejected(400, "Bad Request: invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(stored[1]),
            "file_path": stored[0],
        }

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return error_response(Rejected(401, "Unauthorized"))
        if self.echoing_proxy:
            # A proxy or self-hosted server in front of the Bot API that names the
            # request path (token included) in its error answers.
            return error_response(Rejected(502, f"Bad Gateway: upstream failed for {request.path}"))
        for path, content in self._files.values():
            if path == request.match_info["path"]:
                return web.Response(body=content)
        return error_response(Rejected(404, "Not Found"))
