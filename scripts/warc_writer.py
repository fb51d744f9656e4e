"""Write WARC/1.1 records as Common Crawl ships them (one gzip member per record): the sample crawl
(scripts/build_sample_warc.py), the tests and the extraction benchmark build their crawls with it.

    >>> record = warc_record("response", {"WARC-Target-URI": "https://example.org/"},
    ...                      http_response(200, "text/html", b"<p>hi</p>", charset="utf-8"), record_id="<urn:uuid:1>")
    >>> record.splitlines()[:3]
    [b'WARC/1.1', b'WARC-Type: response', b'WARC-Record-ID: <urn:uuid:1>']
"""
from __future__ import annotations

import gzip
import random
import uuid

HTTP_REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 404: "Not Found", 500: "Internal Server Error"}
WARC_CONTENT_TYPES = {"response": "application/http; msgtype=response", "request": "application/http; msgtype=request",
                      "warcinfo": "application/warc-fields", "metadata": "application/warc-fields",
                      "revisit": "application/http; msgtype=response", "conversion": "text/plain"}


def record_id(rng: random.Random) -> str:
    """A WARC-Record-ID drawn from `rng`: seeded runs write the same ids."""
    return f"<urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}>"


def warc_record(kind: str, headers: dict[str, str], payload: bytes, record_id: str,
                date: str = "2026-11-20T08:00:00Z") -> bytes:
    """One WARC record: the version line, its named fields, a blank line, the payload, two CRLFs."""
    fields = {"WARC-Type": kind, "WARC-Record-ID": record_id, "WARC-Date": date, **headers,
              "Content-Type": headers.get("Content-Type", WARC_CONTENT_TYPES.get(kind, "application/octet-stream")),
              "Content-Length": str(len(payload))}
    head = "WARC/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n"
    return head.encode("utf-8") + payload + b"\r\n\r\n"


def http_response(status: int, content_type: str, body: bytes, charset: str | None = None,
                  headers: dict[str, str] | None = None) -> bytes:
    """An HTTP/1.1 response as a WARC response record holds it; `charset` goes in Content-Type."""
    ctype = f"{content_type}; charset={charset}" if charset else content_type
    fields = {"Content-Type": ctype, "Content-Length": str(len(body)), **(headers or {})}
    head = f"HTTP/1.1 {status} {HTTP_REASONS.get(status, 'Status')}\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n"
    return head.encode("latin-1") + body


def http_request(url: str) -> bytes:
    path = "/" + url.split("://", 1)[-1].split("/", 1)[-1] if "/" in url.split("://", 1)[-1] else "/"
    host = url.split("://", 1)[-1].split("/", 1)[0]
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: ziya-sample-crawler\r\n\r\n".encode("latin-1")


def gzip_member(data: bytes) -> bytes:
    """`data` as one gzip member; mtime 0, so a build is byte-for-byte repeatable."""
    return gzip.compress(data, compresslevel=6, mtime=0)
