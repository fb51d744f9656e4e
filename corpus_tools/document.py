"""The document contract every stage reads and writes (see docs/document-contract.md).

A document is one row with the columns of `DOCUMENT_SCHEMA`; stages add signal columns
beside them and never change `id`. Segments split from a long document get derived ids
(`segment_id`), so a segment can always be traced back to its source document.
"""
from __future__ import annotations

import hashlib

import pyarrow as pa

ID, TEXT, SOURCE, URL, META = "id", "text", "source", "url", "meta"

DOCUMENT_SCHEMA = pa.schema(
    [
        pa.field(ID, pa.string(), nullable=False),
        pa.field(TEXT, pa.string()),
        pa.field(SOURCE, pa.string()),
        pa.field(URL, pa.string()),
        pa.field(META, pa.string()),  # the input record's other fields, as a JSON object
    ]
)

# Records that could not be parsed: where they came from, why, and (a prefix of) what they held.
QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("source", pa.string()),
        pa.field("file", pa.string()),
        pa.field("offset", pa.int64()),
        pa.field("error", pa.string()),
        pa.field("raw", pa.string()),
    ]
)

RAW_PREFIX_CHARS = 2000  # how much of an unparseable record the quarantine keeps for inspection


def derive_id(file_key: str, offset: int) -> str:
    """A stable id for a record that has none: a hash of where it was read.

    `file_key` is the file's path relative to the input root and `offset` the record's
    byte offset in the (decompressed) file or its row index in a Parquet file, so the id
    is the same whatever machine, partitioning or split size reads it.
    """
    return hashlib.blake2b(f"{file_key}\x00{offset}".encode(), digest_size=8).hexdigest()


def segment_id(doc_id: str, index: int) -> str:
    """The id of the `index`-th segment of a split document (`<doc id>#<index>`)."""
    return f"{doc_id}#{index}"
