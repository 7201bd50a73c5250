"""An httpx transport that sends requests to Django's test client.

The device simulator speaks httpx; with this transport the same simulator
drives Trellis in-process, inside a test's database transaction.
"""

import httpx
from django.test import Client


class DjangoTestTransport(httpx.BaseTransport):
    """Hand each request to a django.test.Client, whatever its host."""

    def __init__(self, client: Client | None = None) -> None:
        self.client = client or Client()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode("ascii")
        extra = {
            "HTTP_" + name.upper().replace("-", "_"): value
            for name, value in request.headers.items()
            if name.lower() not in {"content-type", "content-length", "host"}
        }
        response = self.client.generic(
            request.method,
            path,
            data=request.read(),
            content_type=request.headers.get(
                "content-type", "application/octet-stream"
            ),
            **extra,
        )
        return httpx.Response(
            response.status_code,
            headers=dict(response.items()),
            content=response.content,
        )


def in_process_client() -> httpx.Client:
    """An httpx client whose requests go to Trellis in this process."""
    return httpx.Client(transport=DjangoTestTransport(), base_url="http://testserver")
