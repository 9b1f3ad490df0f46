#!/usr/bin/env python3
"""Times the reference implementations of Hark's model and front-end on this machine, and prints
one markdown table beside `hark bench --json` numbers.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python Training/bench_reference.py Models/hark-esc50.json \
        --hark-json /tmp/hark-bench.json

What is timed, per window (batch 1), p50/p99 over --runs runs after --warmup runs:
  * the model in PyTorch eager (torch.inference_mode, NCHW and channels_last) at 1 thread and all cores;
  * the same model exported to ONNX and run by ONNX Runtime (all graph optimisations,
    intra_op_num_threads 1 and all cores);
  * the front-end (torchaudio MelSpectrogram + AmplitudeToDB, hark_train.frontend.LogMel) at 1 thread;
  * a 1024³ float32 matmul in numpy (its bundled OpenBLAS) and torch (MKL) at 1 thread: the sgemm peak.
The input is random: none of these runtimes' speed depends on the values.
"""
from __future__ import annotations

import argparse
import ctypes
import glob
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

# numpy's OpenBLAS only times the 1-thread sgemm peak here (torch uses MKL/OpenMP, ORT its own pool).
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hark_train.config import FrontEndConfig, ModelConfig, frontend_from_dict, model_from_dict  # noqa: E402
from hark_train.frontend import LogMel  # noqa: E402
from hark_train.model import HarkResNet, count_macs, load_card  # noqa: E402


def load_model(card_path: Path) -> tuple[HarkResNet, ModelConfig, FrontEndConfig, dict]:
    model, ckpt = load_card(card_path)
    return (model, model_from_dict(ckpt["config"]["model"]), frontend_from_dict(ckpt["config"]["frontend"]),
            ckpt["card"])


def write_seed_size_card(out_dir: Path) -> Path:
    """Writes the seed-size ResNet of the parity fixtures (deterministic random weights, 128×431 input)
    as a normal card + safetensors, so `hark bench --model` and this script can time it."""
    from safetensors.torch import save_file
    from export import seed_size_random_model, state_tensors

    fixture = Path(__file__).resolve().parent.parent / "Tests" / "Fixtures" / "parity" / "seed-resnet-random.json"
    card = json.loads(fixture.read_text())["card"]
    card["weights"] = {"file": "seed-resnet-random.safetensors", "dtype": "float32"}
    out_dir.mkdir(parents=True, exist_ok=True)
    save_file(state_tensors(seed_size_random_model()), str(out_dir / "seed-resnet-random.safetensors"))
    path = out_dir / "seed-resnet-random.json"
    path.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    return path


def percentiles(samples: list[float]) -> tuple[float, float]:
    s = sorted(samples)
    p50 = s[len(s) // 2]
    p99 = s[min(len(s) - 1, int(np.ceil(len(s) * 0.99)) - 1)]
    return p50 * 1e3, p99 * 1e3


def time_it(fn, runs: int, warmup: int) -> tuple[float, float, float]:
    """p50 and p99 wall ms, and p50 CPU ms of this thread (meaningful at 1 thread: the runtimes then
    compute on the calling thread, and CPU time ignores the time other processes held the core)."""
    for _ in range(warmup):
        fn()
    samples, cpu = [], []
    for _ in range(runs):
        c0, t0 = time.thread_time(), time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
        cpu.append(time.thread_time() - c0)
    p50, p99 = percentiles(samples)
    return p50, p99, sorted(cpu)[len(cpu) // 2] * 1e3


def time_torch(model: torch.nn.Module, x: torch.Tensor, threads: int, runs: int, warmup: int,
               channels_last: bool) -> tuple[float, float, float]:
    torch.set_num_threads(threads)
    m, inp = model, x
    if channels_last:
        m = model.to(memory_format=torch.channels_last)
        inp = x.contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        result = time_it(lambda: m(inp), runs, warmup)
    if channels_last:
        model.to(memory_format=torch.contiguous_format)
    return result


def export_onnx(model: torch.nn.Module, x: torch.Tensor, path: str) -> None:
    # The TorchScript exporter: the dynamo one needs onnxscript, which is not installed here.
    with torch.no_grad():
        torch.onnx.export(model, (x,), path, input_names=["logmel"], output_names=["logits"], opset_version=17,
                          dynamo=False)


def time_ort(path: str, x: np.ndarray, threads: int, runs: int, warmup: int) -> tuple[float, float, float]:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    feed = {"logmel": x}
    return time_it(lambda: sess.run(None, feed), runs, warmup)


def matmul_peak(fn_factory, runs: int = 7) -> float:
    """Best-of-N GFLOP/s of a 1024³ float32 product at 1 thread, in this thread's CPU time."""
    n = 1024
    fn = fn_factory(n)
    fn()
    best = min(_cpu_elapsed(fn) for _ in range(runs))
    return 2 * n ** 3 / best / 1e9


def _cpu_elapsed(fn) -> float:
    t0 = time.thread_time()
    fn()
    return time.thread_time() - t0


def numpy_openblas_core() -> str:
    """The kernel numpy's bundled OpenBLAS picked (it honours OPENBLAS_CORETYPE too)."""
    libdir = Path(np.__file__).resolve().parent.parent / "numpy.libs"
    for lib in glob.glob(str(libdir / "*openblas*")):
        handle = ctypes.CDLL(lib)
        for symbol in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename", "openblas_get_corename"):
            f = getattr(handle, symbol, None)
            if f is not None:
                f.restype = ctypes.c_char_p
                return f().decode()
    return "unknown"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def hark_rows(report: dict) -> tuple[list[tuple], tuple | None]:
    """Model rows and the log-mel row of a `hark bench --json` report: (threads, p50, p99, cpu p50)."""
    model, logmel = [], None
    for s in report["stages"]:
        row = (s["threads"], s["p50_ms"], s["p99_ms"], s.get("cpu_p50_ms"))
        if s["stage"] == "model":
            model.append(row)
        elif s["stage"].startswith("log-mel"):
            logmel = row
    return model, logmel


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("card", type=Path, nargs="?", help="model card, e.g. Models/hark-esc50.json (weights beside it)")
    ap.add_argument("--write-seed-size", type=Path, metavar="DIR",
                    help="write the seed-size parity ResNet as DIR/seed-resnet-random.{json,safetensors} and exit")
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--frames", type=int, help="override the card's frame count")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="the 'all cores' thread count")
    ap.add_argument("--hark-json", type=Path, help="output of `hark bench --json` on the same model")
    ap.add_argument("--json-out", type=Path, help="also write the raw numbers here")
    args = ap.parse_args()
    if args.write_seed_size:
        print(write_seed_size_card(args.write_seed_size))
        return
    if args.card is None:
        ap.error("give a model card (or --write-seed-size DIR)")

    torch.manual_seed(0)
    model, mc, fe, card = load_model(args.card)
    frames = args.frames or fe.frames
    macs = count_macs(mc, fe.n_mels, frames)
    x = torch.randn(1, 1, fe.n_mels, frames)
    threads = sorted({1, args.threads})
    rows: list[tuple[str, int, float, float, float]] = []  # (implementation, threads, p50, p99, cpu p50)

    for t in threads:
        for cl in (False, True):
            p50, p99, cpu = time_torch(model, x, t, args.runs, args.warmup, channels_last=cl)
            rows.append((f"PyTorch {torch.__version__.split('+')[0]} eager ({'channels_last' if cl else 'NCHW'})", t, p50, p99,
                         cpu))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.onnx")
        export_onnx(model, x, path)
        import onnxruntime as ort
        for t in threads:
            p50, p99, cpu = time_ort(path, x.numpy(), t, args.runs, args.warmup)
            rows.append((f"ONNX Runtime {ort.__version__}", t, p50, p99, cpu))

    torch.set_num_threads(1)
    logmel = LogMel(fe)
    wave = torch.randn(fe.window_samples) * 0.1
    with torch.inference_mode():
        fe_p50, fe_p99, fe_cpu = time_it(lambda: logmel(wave), args.runs, args.warmup)
    a = np.random.rand(1024, 1024).astype(np.float32)
    np_peak = matmul_peak(lambda n: (lambda: a @ a))
    ta = torch.rand(1024, 1024)
    torch_peak = matmul_peak(lambda n: (lambda: ta @ ta))

    hark_model, hark_logmel, hark = [], None, None
    if args.hark_json:
        hark = json.loads(args.hark_json.read_text())
        hark_model, hark_logmel = hark_rows(hark)
        if hark.get("macs") and abs(hark["macs"] - macs) > 0.01 * macs:
            print(f"warning: hark measured {hark['macs']} MACs, PyTorch counts {macs}: not the same model/input",
                  file=sys.stderr)

    gflop = 2 * macs / 1e9
    print(f"## {card['name']}: {mc.stem} stem, blocks {mc.blocks}, widths {mc.widths}, input 1×{fe.n_mels}×{frames}, "
          f"{macs / 1e9:.3f} GMAC\n")
    load = os.getloadavg()
    print(f"Machine: {cpu_model()}, {os.cpu_count()} cores, load average {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}; "
          f"Python {platform.python_version()}, torch {torch.__version__}, onnxruntime {ort.__version__}, "
          f"torchaudio {__import__('torchaudio').__version__}, numpy {np.__version__}.")
    kernel = hark.get("blas_core") if hark else None
    print(f"OpenBLAS kernel: hark (system OpenBLAS) {kernel or 'n/a'}; numpy's OpenBLAS {numpy_openblas_core()}. "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}.")
    peaks = [f"numpy/OpenBLAS {np_peak:.0f}", f"torch/MKL {torch_peak:.0f}"]
    if hark:
        peaks.append(f"hark's OpenBLAS {hark['sgemm_peak_gflops'].get('1', float('nan')):.0f}")
    print(f"1024³ sgemm at 1 thread, GFLOP/s: {', '.join(peaks)}.\n")

    hark_ref = {t: (p50, cpu) for t, p50, _, cpu in hark_model}

    def ratio(t: int, p50: float, cpu: float | None) -> str:
        if t not in hark_ref:
            return "–"
        wall = f"{p50 / hark_ref[t][0]:.2f}"
        return wall + (f" ({cpu / hark_ref[t][1]:.2f})" if t == 1 and cpu and hark_ref[t][1] else "")

    def ms(v: float | None, digits: int = 2) -> str:
        return f"{v:.{digits}f}" if v is not None else "–"

    print("| stage | implementation | threads | p50 ms | p99 ms | CPU p50 ms | GFLOP/s (2×MACs, p50) | time ÷ Hark's (CPU) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for t, p50, p99, cpu in hark_model:
        print(f"| model | Hark engine | {t} | {p50:.2f} | {p99:.2f} | {ms(cpu if t == 1 else None)} | "
              f"{gflop / (p50 / 1e3):.0f} | 1.00 |")
    for name, t, p50, p99, cpu in rows:
        print(f"| model | {name} | {t} | {p50:.2f} | {p99:.2f} | {ms(cpu if t == 1 else None)} | "
              f"{gflop / (p50 / 1e3):.0f} | {ratio(t, p50, cpu)} |")
    stage = f"log-mel {fe.n_mels}×{frames}"
    if hark_logmel:
        t, p50, p99, cpu = hark_logmel
        print(f"| {stage} | Hark LogMelSpectrogram | {t} | {p50:.3f} | {p99:.3f} | {ms(cpu, 3)} | – | 1.00 |")
    fe_ratio = "–"
    if hark_logmel:
        fe_ratio = f"{fe_p50 / hark_logmel[1]:.2f}" + (f" ({fe_cpu / hark_logmel[3]:.2f})" if hark_logmel[3] else "")
    print(f"| {stage} | torchaudio {__import__('torchaudio').__version__.split('+')[0]} | 1 | {fe_p50:.3f} | "
          f"{fe_p99:.3f} | {fe_cpu:.3f} | – | {fe_ratio} |")

    if args.json_out:
        args.json_out.write_text(json.dumps({
            "model": card["name"], "macs": macs, "frames": frames, "rows": rows,
            "torchaudio_logmel": [fe_p50, fe_p99, fe_cpu], "numpy_sgemm_gflops": np_peak, "torch_sgemm_gflops": torch_peak,
        }, indent=2))


if __name__ == "__main__":
    main()
