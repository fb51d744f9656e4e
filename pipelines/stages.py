"""Every stage, declared once: what `ziya <stage>` is called, its config, its flags, its pre-checks
and Spark settings, and where its work lives. The CLI builds one subcommand per entry and
`Stage.run` (pipelines/stage.py) runs it. A new stage is a module with its `work` function and
one entry here.

Code is named as "module:attribute" and imported only when a stage runs, so `ziya --help` stays
instant.
"""
from __future__ import annotations

from pipelines.stage import Option, Stage, commas

RAW_OR_STAGE = "a stage's output or its kept/ (Parquet), or JSONL(.gz/.zst)/Parquet files or directories"

CLEAN = Stage(
    name="clean",
    help="preprocess, identify language and apply rule filters (Spark job)",
    config="corpus_tools.clean:CleanConfig",
    work="pipelines.clean:work",
    summary="pipelines.clean:print_summary",
    prepare="pipelines.clean:prepare",
    paths=("langid.model_path", "url_blocklists"),
    input_help="JSONL(.gz/.zst), Parquet, WARC/WET (.warc[.gz], .warc.wet.gz) or warc.paths[.gz] listings: "
               "files or directories (local, file://, s3://, gs://, hdfs://)",
    output_help="output directory (kept/, rejected/, quarantine/, stats.json)",
    options=(
        Option("--text-field", "input.text_field", "input field holding the text (default: text)"),
        Option("--id-field", "input.id_field", "input field holding the id (default: id; derived when absent)"),
        Option("--langs", "langid.allowed", "comma-separated languages to keep, e.g. zh,en (default: all)", commas),
        Option("--mask-pii", "pii.enabled", "mask e-mails, phones, IPs, ID and bank card numbers as <EMAIL>, <PHONE>, "
               "<IP>, <ID_NUMBER>, <BANK_CARD> (kinds and placeholder: the config's [pii] table)", None, True),
        Option("--url-blocklist", "url_blocklists",
               "reject documents whose URL this list names, as url_blocked_<category>: a file of domains / URL "
               "prefixes (category: its name) or a UT1-layout directory (category: each folder); repeatable, "
               "replaces the config's url_blocklists", repeat=True, metavar="PATH"),
    ),
)

DEDUP = Stage(
    name="dedup",
    help="URL, exact and MinHash LSH near dedup (Spark job)",
    config="corpus_tools.dedup:DedupConfig",
    work="pipelines.dedup:work",
    summary="pipelines.dedup:print_summary",
    identity="pipelines.dedup:identity",
    engine="pipelines.components:ComponentsConfig",
    input_help=RAW_OR_STAGE,
    output_help="output directory (kept/, duplicates/, stats.json)",
    options=(
        Option("--threshold", "threshold", "estimated Jaccard similarity of near duplicates (default 0.7)", float),
        Option("--num-perm", "num_perm", "MinHash permutations (default 128)", int),
        Option("--ngram", "ngram", "shingle size in words, or characters for CJK (default 3)", int),
        Option("--bands", "bands", "LSH bands (with --rows; default: optimal for the threshold)", int),
        Option("--rows", "rows", "LSH rows per band (with --bands)", int),
        Option("--no-verify", "verify", "keep LSH candidates without checking their estimated Jaccard", None, False),
        Option("--quality-column", "quality_column",
               "keep the best of each group by this column (default: quality_score or ppl if present)"),
        Option("--text-field", "input.text_field", "input field holding the text (default: text)"),
    ),
    partitions_per_core=4,  # shuffles and joins over small columns, a dozen stages per CC round
)

SCORE = Stage(
    name="score",
    help="KenLM perplexity, per-language percentiles, quality buckets, thresholds (Spark job)",
    config="corpus_tools.lm.score:ScoreConfig",
    work="pipelines.score:work",
    summary="pipelines.score:print_summary",
    prepare="pipelines.score:prepare",
    paths=("models", "quality_model"),
    input_help="a stage's output (its kept/ is read) or Parquet with id, text, lang",
    output_help="output directory (kept/, rejected/, stats.json, config.json)",
    options=(
        Option("--models", "models", "directory of reference models from `ziya kenlm train` (default models/kenlm)"),
        Option("--quality-model", "quality_model", "fastText classifier from `ziya quality train`: adds quality_score"),
        Option("--keep", "keep", "keep only these buckets, e.g. high,medium (others go to rejected/)", commas),
        Option("--max-ppl", "max_ppl", "reject documents above this perplexity", float),
        Option("--min-quality", "min_quality", "reject documents whose quality_score is below this", float),
        Option("--high-share", "high_share", "best share of each language labelled high (default 0.3)", float),
        Option("--medium-share", "medium_share", "cumulative share labelled high or medium (default 0.6)", float),
        Option("--text-field", "text_field", "column holding the text (default: text)"),
    ),
    partitions_per_core=2,  # the grid's aggregation has one row per language
)

DECONTAMINATE = Stage(
    name="decontaminate",
    help="drop documents that share a 13-gram span with a benchmark (Spark job)",
    config="corpus_tools.decontaminate:DecontaminateConfig",
    work="pipelines.decontaminate:work",
    summary="pipelines.decontaminate:print_summary",
    prepare="pipelines.decontaminate:prepare",
    identity="pipelines.decontaminate:identity",
    paths=("benchmarks",),
    input_help=RAW_OR_STAGE,
    output_help="output directory (kept/, rejected/ with the benchmark and matched span, quarantine/, stats.json)",
    options=(
        Option("--benchmark", "benchmarks",
               "benchmark file (JSONL[.gz/.zst] or Parquet, local or s3://); a document sharing an n-gram span with one "
               "of its items is rejected as contaminated:<file name>; repeatable, replaces the config's benchmarks",
               repeat=True, metavar="FILE"),
        Option("--benchmark-fields", "benchmark_fields",
               "comma-separated fields that make an item's text, e.g. question,answer (default: every string field)",
               commas),
        Option("--ngram", "ngram", "tokens in a shared span: words, or CJK characters (default 13)", int),
        Option("--text-field", "input.text_field", "input field holding the text (default: text)"),
    ),
)

PACK = Stage(
    name="pack",
    help="tokenize and pack into Megatron .bin/.idx shards + manifest.json (Spark job)",
    config="corpus_tools.shards:PackConfig",
    work="pipelines.pack:work",
    summary="pipelines.pack:print_summary",
    prepare="pipelines.pack:prepare",
    paths=("tokenizer",),
    identity="pipelines.pack:identity",
    input_help=RAW_OR_STAGE,
    output_help="output directory (shards/, manifest.json, stats.json)",
    options=(
        Option("--tokenizer", "tokenizer",
               "SentencePiece model (default: mistral-common's LLaMA-layout tokenizer.model.v1)"),
        Option("--shard-tokens", "shard_tokens", "tokens per shard; a document is never split (default 100,000,000)", int),
        Option("--text-field", "input.text_field", "input field holding the text (default: text)"),
        Option("--source-field", "input.source_field", "input field naming the source; one source per shard (default: source)"),
    ),
    partitions_per_core=4,  # the write phase sizes its partitions from spark.sql.shuffle.partitions
    adaptive=False,
)

STAGES = {s.name: s for s in (CLEAN, DEDUP, DECONTAMINATE, SCORE, PACK)}
