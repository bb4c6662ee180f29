"""Replay of recorded HTTP answers (``tests/data/recorded/*.json``) for the provider tests.

:class:`YahooReplaySession` is a real ``curl_cffi`` session (the kind yfinance uses) whose
``request`` answers from recordings instead of the network; :class:`AlpacaReplaySession` is the
``requests`` equivalent for alpaca-py. Routes match the method, a regular expression on the URL
and optional query parameters; a route plays its answers in order and repeats the last one.
Anything not routed gets an empty 404, as Yahoo's cookie-consent pages would outside the EU.
Every request is logged in ``calls`` so tests can count what reached "the network".
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import requests
from curl_cffi.requests import Headers, Response
from curl_cffi.requests import Session as CurlSession

RECORDED = Path(__file__).parent / "recorded"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict
    body: bytes

    @classmethod
    def recorded(cls, name: str) -> Answer:
        data = json.loads((RECORDED / name).read_text())
        body = data["body"]
        raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        return cls(data["status"], data["headers"], raw)


@dataclass
class Route:
    method: str
    url: str  # regular expression, searched in the URL without the query string
    answers: list[Answer | Exception]  # an exception is raised, like a network failure
    params: dict = field(default_factory=dict)  # required query parameters (subset match)
    served: int = 0

    def matches(self, method: str, url: str, params: dict) -> bool:
        return (method.upper() == self.method and re.search(self.url, url) is not None
                and all(str(params.get(k)) == str(v) for k, v in self.params.items()))

    def next_answer(self) -> Answer | Exception:
        answer = self.answers[min(self.served, len(self.answers) - 1)]
        self.served += 1
        return answer


class _Router:
    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes
        self.calls: list[tuple[str, str, dict]] = []
        self._lock = threading.Lock()

    def answer(self, method: str, url: str, params: dict | None) -> Answer:
        params = dict(params or {})
        with self._lock:
            self.calls.append((method.upper(), url, params))
            answer = next((route.next_answer() for route in self.routes
                           if route.matches(method, url, params)), None)
        if isinstance(answer, Exception):
            raise answer
        return answer or Answer(404, {"content-type": "text/html"}, b"")

    def count(self, url_pattern: str) -> int:
        return sum(1 for _, url, _ in self.calls if re.search(url_pattern, url))


class YahooReplaySession(CurlSession):
    """A curl_cffi Session that never touches the network."""

    def __init__(self, routes: list[Route]) -> None:
        super().__init__()
        self.router = _Router(routes)

    @property
    def calls(self) -> list[tuple[str, str, dict]]:
        return self.router.calls

    def request(self, method, url, params=None, **kwargs) -> Response:  # noqa: D102
        answer = self.router.answer(method, url, params)
        response = Response()
        response.url = url + ("?" + urlencode(params) if params else "")
        response.status_code = answer.status
        response.ok = answer.status < 400
        response.reason = "OK" if response.ok else "Error"
        response.headers = Headers(answer.headers)
        response.content = answer.body
        return response


class _ReplayAdapter(requests.adapters.BaseAdapter):
    def __init__(self, router: _Router) -> None:
        super().__init__()
        self.router = router

    def send(self, request, **kwargs) -> requests.Response:
        url, _, query = request.url.partition("?")
        params = dict(parse_qsl(query)) if query else {}
        answer = self.router.answer(request.method, url, params)
        response = requests.Response()
        response.status_code = answer.status
        response.headers.update(answer.headers)
        response._content = answer.body
        response.url = request.url
        response.request = request
        return response

    def close(self) -> None:
        pass


class AlpacaReplaySession(requests.Session):
    """A requests Session whose transport answers from recordings."""

    def __init__(self, routes: list[Route]) -> None:
        super().__init__()
        self.router = _Router(routes)
        self.mount("https://", _ReplayAdapter(self.router))
        self.mount("http://", _ReplayAdapter(self.router))

    @property
    def calls(self) -> list[tuple[str, str, dict]]:
        return self.router.calls
