"""Training throughput of a LLaMA-shaped megatron-core GPTModel on one GPU (BF16, SDPA flash attention).

Builds the model from `trainer.config` / `trainer.model`, trains it with `torch.optim.AdamW(fused=True)`
on random token batches for `--warmup` untimed and `--steps` timed steps, and reports tokens/s/GPU,
step time, model TFLOPS and MFU (Megatron's FLOPs formula, `trainer.flops`), peak memory and the loss
at the first and last step. Each entry of `--runs` is one configuration `attention,micro_batch,mode`
(mode: eager; compile, which compiles each transformer layer; loop, the trainer's own step
`trainer.train.train_step` with FP32 master weights, eager); a run that runs out of memory
halves its micro batch and tries again. Figures print as they come and go to $OUT/gpu_train.json.

    python benchmarks/gpu_train_bench.py --device cuda --model llama-1b            # one H100: ~2-4 min
    python benchmarks/gpu_train_bench.py --device cpu --model tiny --steps 3       # CPU smoke test
    python benchmarks/gpu_train_bench.py --runs sdpa,4,eager sdpa,4,loop           # the loop's overhead

Measured 2026-11-27 on one NVIDIA H100 80GB HBM3 (SXM), torch 2.11.0+cu130, megatron-core 0.16.1,
llama-1b (1.100B params), seq 4096, BF16 with FP32 RMSNorm, 10 warm-up + 30 timed steps:
  sdpa mb=4 eager:    52,343 tokens/s/GPU, 0.313 s/step, 382.8 TFLOPS, MFU 38.7%, peak 41.3 GiB
  sdpa mb=8 eager:    53,334 tokens/s/GPU, 0.614 s/step, 390.1 TFLOPS, MFU 39.4%, peak 76.3 GiB
  sdpa mb=4 compile:  64,551 tokens/s/GPU, 0.254 s/step, 472.1 TFLOPS, MFU 47.7%, peak 30.9 GiB
  local mb=1 eager:   out of memory (megatron-core's unfused attention keeps s x s scores per layer)
A second call on the same kind of card, compiled per layer:
  sdpa mb=8 compile:  63,976 tokens/s/GPU, 0.512 s/step, 467.9 TFLOPS, MFU 47.3%, peak 55.5 GiB
  sdpa mb=6 compile:  60,882 tokens/s/GPU, 0.404 s/step, 445.3 TFLOPS, MFU 45.0%, peak 43.2 GiB
so a larger micro batch does not lift MFU past ~48%: the unfused parts (RoPE, SwiGLU, cross
entropy, the optimizer step) are the next place to look.
"""
from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import sys
import time

os.environ.setdefault("PYTORCH_CUDA_ALLOC_CONF", "expandable_segments:True")  # less fragmentation

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402

from trainer.config import get_model_config  # noqa: E402
from trainer.flops import flops_per_iteration, peak_tflops_for  # noqa: E402


@dataclasses.dataclass
class Run:
    attention: str  # sdpa | local
    micro_batch: int
    mode: str  # eager | compile | loop

    @classmethod
    def parse(cls, spec: str) -> "Run":
        attention, mb, mode = spec.split(",")
        if mode not in ("eager", "compile", "loop"):
            raise ValueError(f"mode must be eager, compile or loop: {spec!r}")
        return cls(attention, int(mb), mode)


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def train(cfg, run: Run, args) -> dict:
    """Build a fresh model and optimizer, train, and return the run's figures."""
    from trainer.model import build_model

    device = args.device
    torch.manual_seed(args.seed)
    model = build_model(cfg, device=device, bf16=not args.fp32, attention=run.attention)
    if run.mode == "compile":
        for layer in model.decoder.layers:  # one compiled graph, reused by every layer
            layer.compile()
    b, s = run.micro_batch, cfg.seq_length
    position_ids = torch.arange(s, device=device).expand(b, s)
    gen = torch.Generator(device=device).manual_seed(args.seed)
    if run.mode == "loop":
        step = loop_step(model, b, s, position_ids, gen, args)
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=0.1,
                                fused=(device == "cuda"))

        def step() -> torch.Tensor:
            tokens = torch.randint(0, cfg.vocab_size, (b, s + 1), device=device, generator=gen)
            loss = model(tokens[:, :-1], position_ids, None, labels=tokens[:, 1:]).mean()  # (b, s) -> ()
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            return loss.detach()

    t0 = time.perf_counter()
    warm_losses = [step() for _ in range(args.warmup)]
    sync(device)
    warmup_s = time.perf_counter() - t0
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    losses = [step() for _ in range(args.steps)]
    sync(device)
    elapsed = time.perf_counter() - t0

    step_time = elapsed / args.steps
    tokens_per_s = b * s / step_time
    tflops = flops_per_iteration(cfg, b, s) / step_time / 1e12
    peak = peak_tflops_for(torch.cuda.get_device_name()) if device == "cuda" else None
    all_losses = [x.item() for x in warm_losses + losses]
    out = {
        "attention": run.attention, "micro_batch": b, "mode": run.mode, "seq_length": s,
        "warmup_steps": args.warmup, "timed_steps": args.steps, "warmup_s": round(warmup_s, 2),
        "step_time_s": round(step_time, 4),
        "tokens_per_s_per_gpu": round(tokens_per_s, 1),
        "tflops_per_gpu": round(tflops, 2),
        "mfu": round(tflops / peak, 4) if peak else None,
        "peak_tflops": peak,
        "peak_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if device == "cuda" else None,
        "loss_first_step": round(all_losses[0], 4),
        "loss_last_step": round(all_losses[-1], 4),
    }
    del model, step
    return out


def loop_step(model, b: int, s: int, position_ids, gen, args):
    """One step of the real training loop (`trainer.train.train_step`: token-count-normalized loss,
    DP all-reduce (a no-op here), FP32 master weights for the BF16 model, TP-aware clipping, the loss
    guard, fused AdamW over the masters) on random tokens shaped like `trainer.data`'s micro batches."""
    from trainer.optim import MasterWeights, build_optimizer
    from trainer.run_config import DataConfig, RunConfig
    from trainer.stability import LossGuard
    from trainer.train import train_step

    cfg = RunConfig(device=args.device, data=DataConfig(blends="(random tokens)"))
    master = MasterWeights(list(model.parameters()))
    opt = build_optimizer(master, cfg.optimizer)
    guard = LossGuard(spike_factor=0)  # random tokens: no spikes to judge
    loss_mask = torch.ones(b, s, device=args.device)
    steps = [0]

    def step() -> torch.Tensor:
        tokens = torch.randint(0, model.vocab_size, (b, s + 1), device=args.device, generator=gen)
        batch = {"tokens": tokens[:, :-1], "labels": tokens[:, 1:], "loss_mask": loss_mask,
                 "position_ids": position_ids}
        steps[0] += 1
        return torch.tensor(train_step(model, master, opt, [batch], args.lr, cfg, guard, steps[0])["loss"])

    return step


def free(device: str) -> None:
    gc.collect()
    if device == "cuda":
        torch.cuda.empty_cache()


def train_with_fallback(cfg, run: Run, args) -> dict:
    """Halve the micro batch on out-of-memory until it fits (or 1 does not)."""
    tried = []
    while True:
        oom = error = None
        try:
            result = train(cfg, run, args)
        except torch.OutOfMemoryError as e:  # handled outside `except`, so the frames can be freed
            oom = str(e).splitlines()[0]
        except Exception as e:  # e.g. a compile failure: report it, go on with the next run
            error = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:500]
        free(args.device)
        if error is not None:
            print(f"  failed: {error}", flush=True)
            return dataclasses.asdict(run) | {"error": error}
        if oom is None:
            return result | ({"oom_at_micro_batch": tried} if tried else {})
        tried.append(run.micro_batch)
        print(f"  out of memory at micro batch {run.micro_batch}: {oom}", flush=True)
        if run.micro_batch == 1:
            return {"attention": run.attention, "mode": run.mode, "error": "out of memory at micro batch 1",
                    "oom_at_micro_batch": tried}
        run = dataclasses.replace(run, micro_batch=run.micro_batch // 2)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    p.add_argument("--model", default="llama-1b")
    p.add_argument("--seq-length", type=int, default=None, help="default: the model config's (4096)")
    p.add_argument("--runs", nargs="+", default=None,
                   help="attention,micro_batch,mode entries; default cuda: sdpa,4,eager sdpa,4,loop "
                        "sdpa,8,eager sdpa,4,compile local,1,eager; cpu: sdpa,2,eager sdpa,2,loop local,2,eager")
    p.add_argument("--warmup", type=int, default=None, help="untimed steps (default 10 cuda, 1 cpu)")
    p.add_argument("--steps", type=int, default=30, help="timed steps")
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--fp32", action="store_true", help="FP32 parameters instead of BF16")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--time-budget", type=float, default=330.0,
                   help="seconds; later runs are skipped once this much has elapsed")
    args = p.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("no CUDA device")
    if args.warmup is None:
        args.warmup = 10 if args.device == "cuda" else 1
    if args.runs is None:
        args.runs = (["sdpa,4,eager", "sdpa,4,loop", "sdpa,8,eager", "sdpa,4,compile", "local,1,eager"]
                     if args.device == "cuda" else ["sdpa,2,eager", "sdpa,2,loop", "local,2,eager"])
    runs = [Run.parse(r) for r in args.runs]
    cfg = get_model_config(args.model)
    if args.seq_length:
        cfg = cfg.replace(seq_length=args.seq_length)

    start = time.perf_counter()
    from trainer.parallel import init_distributed  # imports megatron.core (5-15 s)

    init_distributed(args.device, tensor_parallel_size=1, seed=args.seed)
    import megatron.core

    report = {
        "device": torch.cuda.get_device_name() if args.device == "cuda" else "cpu",
        "torch": torch.__version__,
        "megatron_core": megatron.core.__version__,
        "model": dataclasses.asdict(cfg),
        "params": cfg.num_params(),
        "dtype": "fp32" if args.fp32 else "bf16 (FP32 RMSNorm)",
        "optimizer": "torch.optim.AdamW(fused=True)" if args.device == "cuda" else "torch.optim.AdamW",
        "runs": [],
    }
    print(f"{report['device']} | torch {report['torch']} | megatron-core {report['megatron_core']} | "
          f"{cfg.name} {cfg.num_params() / 1e9:.3f}B params, seq {cfg.seq_length}, {report['dtype']}",
          flush=True)
    out_dir = os.environ.get("OUT")
    for run in runs:
        if time.perf_counter() - start > args.time_budget:
            report["runs"].append(dataclasses.asdict(run) | {"skipped": "time budget"})
            print(f"skipped {run} (time budget)", flush=True)
            continue
        print(f"run {run.attention} micro_batch={run.micro_batch} {run.mode} ...", flush=True)
        t = time.perf_counter()
        result = train_with_fallback(cfg, run, args)
        result["wall_s"] = round(time.perf_counter() - t, 1)
        report["runs"].append(result)
        print("  " + json.dumps(result), flush=True)
        if out_dir:  # after every run, so a timeout keeps what was measured
            with open(os.path.join(out_dir, "gpu_train.json"), "w") as f:
                json.dump(report, f, indent=2)

    done = [r for r in report["runs"] if "tokens_per_s_per_gpu" in r]
    if done:
        best = max(done, key=lambda r: r["tokens_per_s_per_gpu"])
        report["best"] = best
        mfu = f"{best['mfu']:.1%}" if best["mfu"] is not None else "n/a"
        print(f"best: {best['attention']} mb={best['micro_batch']} {best['mode']}: "
              f"{best['tokens_per_s_per_gpu']:.0f} tokens/s/GPU, {best['step_time_s']:.3f} s/step, "
              f"{best['tflops_per_gpu']:.1f} TFLOPS, MFU {mfu}, peak mem {best['peak_memory_gib']} GiB, "
              f"loss {best['loss_first_step']} -> {best['loss_last_step']}", flush=True)
    if out_dir:
        with open(os.path.join(out_dir, "gpu_train.json"), "w") as f:
            json.dump(report, f, indent=2)
    print(f"total {time.perf_counter() - start:.1f} s", flush=True)
    from trainer.parallel import destroy_distributed

    destroy_distributed()


if __name__ == "__main__":
    main()
