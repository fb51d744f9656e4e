"""`ziya`: one command, a subcommand per job. Heavy imports happen inside the subcommand,
so `ziya --help` answers at once."""
from __future__ import annotations

import argparse
import sys


def _spark_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--master", help="Spark master URL (default: local[*], or spark-submit's)")
    p.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE", help="extra Spark setting (repeatable)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output directory")


def _parse_conf(pairs: list[str]) -> dict[str, str]:
    conf = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--conf expects KEY=VALUE, got {pair!r}")
        conf[key] = value
    return conf


def _session(app: str, args: argparse.Namespace):
    """The job's SparkSession, with the user's --conf settings."""
    from pipelines.spark import get_session

    return get_session(app, args.master, _parse_conf(args.conf))


def cmd_stage(args: argparse.Namespace) -> int:
    """Every stage's subcommand: its config file, the flags laid over it, then `Stage.run`."""
    from corpus_tools.config import read_file

    stage = args.stage
    data = read_file(args.config)
    for option in stage.options:
        option.apply(data, getattr(args, option.dest))
    cfg, engine = stage.load_config(data)
    stage.run(lambda: _session(f"ziya-{stage.name}", args), args.input, args.output, cfg, args.overwrite, engine)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """`ziya run PIPELINE.toml`: every stage of the pipeline file in order (pipelines/pipeline.py)."""
    import functools

    from pipelines import pipeline

    pipe = pipeline.load(args.pipeline)
    if args.dry_run:
        pipeline.print_plan(pipe, pipeline.plan(pipe))
        return 0
    rows = pipeline.run(pipe, functools.cache(lambda: _session("ziya-run", args)))
    print("\n".join(pipeline.funnel(rows)))
    return 0


def _stage_parser(sub, stage) -> None:
    p = sub.add_parser(stage.name, help=stage.help)
    p.add_argument("--input", nargs="+", required=True, help=stage.input_help)
    p.add_argument("--output", required=True, help=stage.output_help + "; a local path or URL (s3://, gs://, hdfs://)")
    p.add_argument("--config", help=f"TOML or JSON config (the fields of {stage.config.replace(':', '.')})")
    for option in stage.options:
        if option.type is None:
            p.add_argument(option.flag, action="store_true", help=option.help)
        else:
            p.add_argument(option.flag, type=option.type, help=option.help, metavar=option.metavar,
                           action="append" if option.repeat else "store")
    _spark_args(p)
    p.set_defaults(func=cmd_stage, stage=stage)


def cmd_shards_verify(args: argparse.Namespace) -> int:
    from corpus_tools.shards import verify_pack

    report = verify_pack(args.dir)
    print("\n".join(report.lines))
    print(f"{args.dir}: {'OK' if report.ok else 'CORRUPT'}: {report.failures} problem(s) over {report.shards} shard(s)")
    return 0 if report.ok else 1


def cmd_mix(args: argparse.Namespace) -> int:
    import json

    from corpus_tools import storage
    from corpus_tools.mix import build_blends, format_table

    out = storage.resolve(args.output)
    with storage.exclusive_lock(out + ".lock", "mix", out):  # one run per output, as a stage's
        blends = build_blends(args.recipe, args.pack)
        storage.write_atomically(out, json.dumps(blends, indent=2))
    print(format_table(blends))
    print(f"blends of {len(blends['stages'])} stage(s) written to {args.output}")
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    """Conversions run in this process, except hf-to-mcore with --tp N > 1: N gloo processes under
    torchrun (`python -m trainer.hf import`), each holding 1/N of the model. mcore-to-hf always runs at
    TP=1 (a checkpoint of any TP size reshards on load); expand-vocab needs no megatron-core."""
    import subprocess

    from trainer.hf import ConversionError
    from trainer.vocab import VocabError

    try:
        if args.convert_command == "expand-vocab":
            from trainer.vocab import expand_hf_checkpoint

            done = expand_hf_checkpoint(args.hf, args.mapping, args.output, args.base_tokenizer)
            print(f"wrote {args.output}: " + "; ".join(done))
            return 0
        from trainer import hf

        if args.convert_command == "mcore-to-hf":
            return hf.main(["export", "--checkpoint", args.checkpoint, "--output", args.output]
                           + (["--dtype", args.dtype] if args.dtype else [])
                           + (["--vocab-size", str(args.vocab_size)] if args.vocab_size else []))
        hf.hf_config_to_model_config(hf.read_hf_config(args.hf))  # a bad input fails before megatron-core loads
        argv = ["import", "--hf", args.hf, "--output", args.output, "--tp", str(args.tp),
                "--vocab-multiple", str(args.vocab_multiple)]
        if args.tp == 1:
            return hf.main(argv)
        torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(args.tp)]
        return subprocess.call([*torchrun, "-m", "trainer.hf", *argv])
    except (ConversionError, VocabError, FileExistsError) as exc:
        print(f"ziya convert {args.convert_command}: error: {exc}", file=sys.stderr)
        return 2


def cmd_tokenizer_expand(args: argparse.Namespace) -> int:
    from corpus_tools.tokenizer import TokenizerError
    from corpus_tools.vocab_expand import ExpandConfig, ExpansionError, expand, format_report

    try:
        cfg = ExpandConfig(vocab_size=args.vocab_size, lang=args.lang, text_field=args.text_field,
                           lang_field=args.lang_field, heldout_fraction=args.heldout_fraction,
                           character_coverage=args.character_coverage)
    except ValueError as exc:  # a setting out of range
        print(f"ziya tokenizer expand: error: {exc}", file=sys.stderr)
        return 2
    try:
        result = expand(args.base, args.input, args.output, cfg, overwrite=args.overwrite)
    except (ExpansionError, TokenizerError) as exc:
        print(f"ziya tokenizer expand: error: {exc}", file=sys.stderr)
        return 2
    print(format_report(result, cfg, args.output))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """Check the config, then run `torchrun ... -m trainer.train` (trainer/launch.py)."""
    from corpus_tools.config import ConfigError
    from trainer import launch
    from trainer.data import BlendsError

    try:
        return launch.run(args.config, args.overrides, nproc=args.nproc, nnodes=args.nnodes,
                          node_rank=args.node_rank, master_addr=args.master_addr, master_port=args.master_port)
    except (ConfigError, BlendsError, ValueError) as exc:
        print(f"ziya train: error: {exc}", file=sys.stderr)
        return 2


def cmd_kenlm_train(args: argparse.Namespace) -> int:
    from corpus_tools.lm.model import ModelError, TrainConfig, train

    try:
        meta = train(args.input, args.output, TrainConfig(args.lang, order=args.order, vocab_size=args.vocab_size),
                     text_field=args.text_field)
    except (ModelError, ValueError) as exc:
        print(f"ziya kenlm train: error: {exc}", file=sys.stderr)
        return 2
    print(f"[kenlm] {meta['lang']}: {meta['order']}-gram model over {meta['vocab_pieces']} SentencePiece pieces, "
          f"{meta['sentences']} lines, {meta['tokens']} tokens, n-grams {meta['ngrams']}, {meta['total_seconds']:.0f}s; "
          f"{args.output}.{{arpa,{'binary,' if meta['binary'] else ''}sp.model,json}}", file=sys.stderr)
    return 0


def cmd_quality_train(args: argparse.Namespace) -> int:
    from corpus_tools.lm.model import ModelError
    from corpus_tools.quality import train

    try:
        result = train(args.positive, args.negative, args.output)
    except ModelError as exc:
        print(f"ziya quality train: error: {exc}", file=sys.stderr)
        return 2
    print(f"[quality] {result['positive']} reference vs {result['negative']} web documents -> {args.output}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ziya", description="Clean, deduplicate, score and pack text corpora (Ziya2 recipe).")
    sub = parser.add_subparsers(dest="command", required=True)
    from pipelines.stages import STAGES  # declarations only: no stage code is imported

    for stage in STAGES.values():
        _stage_parser(sub, stage)

    p = sub.add_parser("run", help="run a pipeline file: its stages in order, on one Spark session, resumable")
    p.add_argument("pipeline", help="pipeline TOML (see recipes/demo.toml)")
    p.add_argument("--dry-run", action="store_true", help="print what each step would do, run nothing")
    p.add_argument("--master", help="Spark master URL (default: local[*], or spark-submit's)")
    p.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE", help="extra Spark setting (repeatable)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("shards", help="check packed shards")
    shards_sub = p.add_subparsers(dest="shards_command", required=True)
    v = shards_sub.add_parser("verify", help="check every shard against manifest.json (exit 1 on any problem)")
    v.add_argument("dir", help="a `ziya pack` output directory")
    v.set_defaults(func=cmd_shards_verify)

    p = sub.add_parser("mix", help="resolve a staged data-mixture recipe into Megatron blend lists")
    p.add_argument("--recipe", required=True, help="recipe TOML (see recipes/ziya2_demo.toml)")
    p.add_argument("--output", required=True, help="blends JSON to write")
    p.add_argument("--pack", nargs="+", help="`ziya pack` output directories (default: the recipe's packs)")
    p.set_defaults(func=cmd_mix)
    p = sub.add_parser("convert", help="Hugging Face LLaMA <-> megatron-core checkpoints; vocabulary expansion")
    conv = p.add_subparsers(dest="convert_command", required=True)
    c = conv.add_parser("hf-to-mcore", help="HF safetensors + config.json -> trainer checkpoint (step 0)")
    c.add_argument("--hf", required=True, help="HF model directory (config.json, *.safetensors)")
    c.add_argument("--output", required=True, help="new checkpoint directory (step-0000000/, latest)")
    c.add_argument("--tp", type=int, default=1, help="convert in N processes, each holding 1/N of the model "
                   "(the checkpoint loads at any TP size either way)")
    c.add_argument("--vocab-multiple", type=int, default=128, help="pad the vocabulary to a multiple of this")
    c.set_defaults(func=cmd_convert)
    c = conv.add_parser("mcore-to-hf", help="trainer checkpoint (any TP size) -> HF safetensors + config.json")
    c.add_argument("--checkpoint", required=True, help="a checkpoint (step-N/) or a run directory (its latest)")
    c.add_argument("--output", required=True, help="new HF model directory")
    c.add_argument("--dtype", choices=["float32", "bfloat16", "float16"],
                   help="of the written weights (default: the imported model's, else float32)")
    c.add_argument("--vocab-size", type=int, help="vocabulary rows to write (default: the imported model's "
                   "unpadded vocabulary, else all; set it for a trained checkpoint whose vocabulary was padded)")
    c.set_defaults(func=cmd_convert)
    c = conv.add_parser("expand-vocab", help="grow an HF model's embedding and output layer to an expanded "
                        "tokenizer (`ziya tokenizer expand`'s mapping)")
    c.add_argument("--hf", required=True, help="HF model directory with the base vocabulary")
    c.add_argument("--mapping", required=True, help="MODEL.expansion.json")
    c.add_argument("--output", required=True, help="new HF model directory")
    c.add_argument("--base-tokenizer", help="the model's tokenizer, checked against the mapping's base "
                   "(default: HF_DIR/tokenizer.model)")
    c.set_defaults(func=cmd_convert)
    p = sub.add_parser("tokenizer", help="SentencePiece tokenizer tools")
    tok_sub = p.add_subparsers(dest="tokenizer_command", required=True)
    t = tok_sub.add_parser("expand", help="Ziya2-style: add Chinese pieces to a LLaMA-2-layout SentencePiece "
                           "model, keeping every base id (writes MODEL and MODEL.expansion.json)")
    t.add_argument("--base", help="base SentencePiece model (default: mistral-common's LLaMA-layout tokenizer.model.v1)")
    t.add_argument("--input", nargs="+", required=True,
                   help="a stage's output or its kept/ (Parquet), or JSONL(.gz/.zst)/Parquet files or directories")
    t.add_argument("--vocab-size", type=int, required=True,
                   help="pieces of the Chinese BPE model trained; those the base lacks are appended")
    t.add_argument("--output", required=True, help="expanded model to write (and OUTPUT.expansion.json)")
    t.add_argument("--text-field", default="text", help="input field holding the text (default: text)")
    t.add_argument("--lang", default="zh", help="train on documents of this language (default: zh)")
    t.add_argument("--lang-field", default="lang", help="column or record field with the language (default: lang)")
    t.add_argument("--heldout-fraction", type=float, default=0.1,
                   help="share of documents (by id hash) held apart to measure chars/token (default 0.1)")
    t.add_argument("--character-coverage", type=float, default=0.9995,
                   help="share of the text's characters the trained model covers; rarer ones stay byte "
                   "fallback (default 0.9995; lower it for a smaller expansion)")
    t.add_argument("--overwrite", action="store_true", help="replace an existing output model")
    t.set_defaults(func=cmd_tokenizer_expand)
    p = sub.add_parser("train", help="train a LLaMA-style model on packed shards (megatron-core under torchrun)")
    p.add_argument("--config", required=True, help="training config (TOML), e.g. configs/train_tiny_demo.toml")
    p.add_argument("--nproc", type=int, default=1, help="processes (GPUs) per node; dp = nproc x nnodes / tp")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                   help="override a config value, e.g. --set schedule.lr=1e-3 --set parallel.tp=2 (repeatable)")
    p.add_argument("--nnodes", type=int, default=1, help="nodes (multi-node: run the command on each)")
    p.add_argument("--node-rank", type=int, default=0, help="this node's rank (multi-node)")
    p.add_argument("--master-addr", help="node 0's address (multi-node)")
    p.add_argument("--master-port", type=int, default=29500, help="rendezvous port (multi-node)")
    p.set_defaults(func=cmd_train)
    p = sub.add_parser("kenlm", help="n-gram reference language models (KenLM format)")
    kenlm_sub = p.add_subparsers(dest="kenlm_command", required=True)
    k = kenlm_sub.add_parser("train", help="SentencePiece + modified Kneser-Ney n-gram model from reference text")
    k.add_argument("--lang", required=True, help="language code of the model, as `ziya clean` labels documents (zh, en, ...)")
    k.add_argument("--input", nargs="+", required=True, help="reference text: .txt(.gz) (a line per paragraph), JSONL or Parquet")
    k.add_argument("--output", required=True, help="model prefix, e.g. models/kenlm/zh -> zh.arpa, zh.binary, zh.sp.model, zh.json")
    k.add_argument("--order", type=int, default=5, help="n-gram order (default 5)")
    k.add_argument("--vocab-size", type=int, default=16000, help="SentencePiece pieces, a soft limit (default 16000)")
    k.add_argument("--text-field", default="text", help="text field of JSONL/Parquet input (default: text)")
    k.set_defaults(func=cmd_kenlm_train)

    p = sub.add_parser("quality", help="reference-vs-web quality classifier (fastText)")
    quality_sub = p.add_subparsers(dest="quality_command", required=True)
    q = quality_sub.add_parser("train", help="train on reference text (positive) vs web-like text (negative)")
    q.add_argument("--positive", nargs="+", required=True, help="reference text: .txt(.gz), JSONL or Parquet")
    q.add_argument("--negative", nargs="+", required=True, help="web-like text: .txt(.gz), JSONL or Parquet")
    q.add_argument("--output", required=True, help="the classifier file, e.g. models/quality.bin")
    q.set_defaults(func=cmd_quality_train)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except Exception as exc:  # a clear one-line error for expected failures
        from corpus_tools.config import ConfigError
        from corpus_tools.lm.model import ModelError
        from corpus_tools.mix import MixError
        from corpus_tools.shards import ShardError
        from corpus_tools.storage import LockHeld, StorageError
        from corpus_tools.tokenizer import TokenizerError
        from pipelines.spark import JavaMissing
        from pipelines.stage import OutputExists

        if isinstance(exc, (ConfigError, StorageError, JavaMissing, OutputExists, LockHeld, FileNotFoundError,
                            TokenizerError, ShardError, MixError, ModelError)):
            print(f"ziya {args.command}: error: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
