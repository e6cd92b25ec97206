"""uvicorn's httptools protocol with a limit on a request's head (request line and headers):
a client that sends more before its headers end gets 431 and the connection is closed, as
the bytes arrive, before they are parsed into a request (a 22 MB header otherwise held the
event loop for a third of a second while it was gathered)."""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.infra.web.problems import head_too_large_response

MAX_HEAD_BYTES = 64 * 1024  # the app answers 431 to headers past 16 KiB itself (request_metrics)


class HeadLimitedProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0
        self._in_body = False
        self._tail = b""  # the last bytes of the head so far: its end may span two reads

    def data_received(self, data: bytes) -> None:
        if not self._in_body:
            # Only the head counts: a read that holds its end and the body's start counts
            # up to the blank line.
            end = (self._tail + data).find(b"\r\n\r\n")
            self._head_bytes += len(data) if end < 0 else max(end + 4 - len(self._tail), 0)
            if self._head_bytes > MAX_HEAD_BYTES:
                self.transport.write(head_too_large_response(MAX_HEAD_BYTES))
                self.transport.close()
                return
            self._tail = data[-3:]
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._in_body = True
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_body = False
        self._head_bytes = 0
        self._tail = b""
