"""The ``djax`` command line.

    djax run                        evaluate the default benchmark point, print its observables
    djax init [PATH]                write a commented copy of the default run file to edit
    djax sample [RUNFILE] [opts]    NUTS posterior sampling (no RUNFILE: the reference analysis)
    djax optimize [RUNFILE] [opts]  multi-start fits and profile likelihoods
    djax scan [RUNFILE] [opts]      streamed, sharded, resumable scan of the prior box
    djax plot RUN_DIR               plots of a finished (or interrupted) run
    djax bench [--quick] [--suite S] benchmarks (throughput, peers, sampling, scaling) -> benchmarks/results

    opts: --out DIR  --resume  --overwrite  --set KEY=VALUE (repeatable, e.g. --set sample.num_chains=2)

Every job writes a run folder (``run.output_dir`` or ``--out``) holding the resolved run file, package
versions, the JAX device list, seed and timings; an existing folder is never replaced unless
``--overwrite`` is given. Ctrl-C leaves a resumable state (``--resume``). Exit codes: 0 success,
2 bad input (the message names the key), 130 interrupted.

Multi-host runs: start one process per host with the same command, after calling
``jax.distributed.initialize()`` (``DJAX_DISTRIBUTED=1`` makes the CLI call it first thing, with the
coordinator taken from the usual ``JAX_COORDINATOR_ADDRESS``/cluster environment); scans then shard
over every device of every host and process 0 writes the results.
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib
import inspect
import os
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

DEFAULT_INIT_PATH = "djax_run.toml"


class CliError(RuntimeError):
    """A user-facing error: printed as ``djax: error: ...`` with exit status 2."""


# ----------------------------------------------------------------------------------------------
# Hooks into the rest of the package (imported lazily: the CLI starts fast and fails clearly)


def _print_benchmark() -> int:
    """Print the default benchmark point's observables via ``djax.report.benchmark_table()``."""
    try:
        report = importlib.import_module("djax.report")
    except ModuleNotFoundError as exc:
        if exc.name != "djax.report":
            raise
        raise CliError("`djax run` needs djax.report.benchmark_table(), which this install does not "
                       "provide") from None
    fn = getattr(report, "benchmark_table", None)
    if fn is None:
        raise CliError("`djax run` needs djax.report.benchmark_table(), which this install does not provide")
    out = fn()
    if out is not None:
        print(out)
    return 0


def _inference_function(name: str) -> Callable[..., Any]:
    try:
        mod = importlib.import_module("djax.inference")
    except ModuleNotFoundError as exc:  # pragma: no cover - the package ships djax.inference
        if exc.name not in ("djax.inference",):
            raise
        mod = None
    fn = getattr(mod, name, None)
    if fn is None:
        raise CliError(f"djax.inference.{name}() is not available in this install; this job cannot run yet")
    return fn


def _call_job(fn: Callable[..., Any], config: Any, folder: Any) -> Any:
    """Call ``fn(config)``, also passing ``run_folder=`` when the function accepts it."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        params = {}
    if "run_folder" in params or any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return fn(config, run_folder=folder)
    return fn(config)


# ----------------------------------------------------------------------------------------------
# Run files and folders


def _load_config(args: argparse.Namespace, job: str | None):
    from djax.io._runfile import load_run, parse_set_option

    overrides: dict[str, Any] = {}
    for item in args.set or ():
        k, v = parse_set_option(item)
        overrides[k] = v
    if job is not None:
        overrides["run.job"] = job
    if getattr(args, "out", None):
        overrides["run.output_dir"] = str(args.out).replace("{", "{{").replace("}", "}}")
    if getattr(args, "resume", False):
        overrides["run.resume"] = True
    if getattr(args, "overwrite", False):
        overrides["run.overwrite"] = True
    return load_run(args.runfile, overrides=overrides)


def _open_folder(config: Any, argv: Sequence[str]):
    from djax.io._outputs import RunFolder

    folder = RunFolder.create(config.output_path, overwrite=config.run.overwrite, resume=config.run.resume)
    out = str(folder.path).replace("{", "{{").replace("}", "}}")
    config = dataclasses.replace(config, run=dataclasses.replace(config.run, output_dir=out))
    folder.write_metadata(config, argv=argv, status="running")
    return folder, config


def _run_job(job: str, args: argparse.Namespace, argv: Sequence[str]) -> int:
    config = _load_config(args, job)
    if job == "scan":
        build = _inference_function("build_point_fn")
        fn = None
    else:
        fn = _inference_function(job)
    folder, config = _open_folder(config, argv)
    status = "failed"
    try:
        with folder.timer(job):
            if job == "scan":
                _scan_job(build, config, folder)
            else:
                _call_job(fn, config, folder)
        status = "done"
    except KeyboardInterrupt:
        status = "interrupted"
        print(f"djax: interrupted; the last checkpoint is in {folder.path}. Continue with "
              f"`djax {job} {args.runfile or ''} --resume --out {folder.path}`".replace("  ", " "),
              file=sys.stderr)
        return 130
    finally:
        folder.write_metadata(config, argv=argv, status=status)
    print(f"djax: {job} done; results in {folder.path}")
    return 0


def _scan_job(build: Callable[[Any], Any], config: Any, folder: Any) -> None:
    from djax.inference._scan import plot_scan, run_scan_config

    point_fn = build(config)
    res = run_scan_config(point_fn, config, folder.path, resume=config.run.resume)
    folder.timings.update({f"scan_{k}": v for k, v in res.timings.items() if isinstance(v, (int, float))})
    print(f"scanned {res.n_done} points ({res.method}, {res.timings.get('devices', '?')} device(s)); "
          f"allowed fraction {res.allowed_fraction:.6g} ({res.criterion})")
    if res.best_point is not None:
        print(f"best loglike {res.best_loglike:.6g} at " +
              ", ".join(f"{k}={v:.4g}" for k, v in res.best_point.items()))
    if config.output.plots and res.maps:
        for p in plot_scan(folder.path, fmt=config.output.plot_format):
            print(f"wrote {p}")


# ----------------------------------------------------------------------------------------------
# Subcommands


def _cmd_run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    return _print_benchmark()


def _cmd_init(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from djax.io._outputs import atomic_write_text
    from djax.io._runfile import default_run_text

    path = Path(args.path)
    if path.is_dir():
        path = path / DEFAULT_INIT_PATH
    if path.exists() and not args.overwrite:
        raise CliError(f"{path} exists; pass --overwrite to replace it")
    atomic_write_text(path, default_run_text())
    print(f"wrote {path}; edit it, then run `djax sample {path}`")
    return 0


def _cmd_plot(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Figures of a run folder via ``djax.plotting.plot_run`` (PNG and PDF, plus the run file's
    ``output.plot_format``, unless ``--format`` names one)."""
    from djax.plotting import PlotInputError, plot_run

    run_dir = Path(args.run_dir)
    if not run_dir.is_dir():
        raise CliError(f"{run_dir} is not a folder")
    try:
        written = plot_run(run_dir, fmt=args.format)
    except PlotInputError as exc:
        raise CliError(str(exc)) from None
    for p in written:
        print(f"wrote {p}")
    return 0


def _cmd_bench(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from djax.bench import SUITES, run_bench

    suites = args.suite or list(SUITES)
    res = run_bench(quick=args.quick, out_dir=args.out, suites=suites)
    for name, r in res.items():
        print(f"{name}: wrote {r['files']['json']} and {r['files']['md']}")
    return 0


def _add_job_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("runfile", nargs="?", default=None,
                   help="run file (TOML); default: the embedded reference analysis (see `djax init`)")
    p.add_argument("--out", metavar="DIR", help="run folder (overrides run.output_dir)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--resume", action="store_true", help="continue an interrupted run in its folder")
    g.add_argument("--overwrite", action="store_true", help="replace an existing run folder")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override a run-file key, e.g. --set sample.num_chains=2 (repeatable; TOML values)")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="djax", description="Differentiable dark-sector neutrino-TMM fitter.",
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--version", action="version", version=f"djax {_version()}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("run", help="evaluate the default benchmark point and print its observables")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("init", help="write a commented copy of the default run file")
    p.add_argument("path", nargs="?", default=DEFAULT_INIT_PATH, help=f"where (default {DEFAULT_INIT_PATH})")
    p.add_argument("--overwrite", action="store_true", help="replace an existing file")
    p.set_defaults(func=_cmd_init)

    for job, help_ in (("sample", "NUTS posterior sampling"), ("optimize", "multi-start fits and profiles"),
                       ("scan", "streamed, sharded, resumable scan of the prior box")):
        p = sub.add_parser(job, help=help_)
        _add_job_options(p)
        p.set_defaults(func=lambda a, argv, job=job: _run_job(job, a, argv))

    p = sub.add_parser("plot", help="plots of a run folder")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--format", choices=("pdf", "png", "svg"), default=None)
    p.set_defaults(func=_cmd_plot)

    p = sub.add_parser("bench", help="benchmark suites (throughput, peers, sampling, scaling); writes JSON + Markdown")
    p.add_argument("--quick", action="store_true", help="small settings (CI: a few minutes on 2 cores)")
    p.add_argument("--out", metavar="DIR", default=None, help="results folder (default benchmarks/results)")
    p.add_argument("--suite", action="append", metavar="NAME",
                   choices=("throughput", "peers", "sampling", "scaling"),
                   help="run only this suite (repeatable; default all)")
    p.set_defaults(func=_cmd_bench)
    return ap


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("djax")
    except Exception:  # not installed: fall back to the source tree
        import djax

        return djax.__version__


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``djax`` console script; returns the exit status."""
    from djax._x64 import enable_x64

    enable_x64()
    if os.environ.get("DJAX_DISTRIBUTED") == "1":
        import jax

        jax.distributed.initialize()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    from djax.inference._scan import ScanError
    from djax.io._outputs import RunFolderError
    from djax.io._runfile import RunFileError

    try:
        return int(args.func(args, ["djax", *argv]) or 0)
    except (CliError, RunFileError, RunFolderError, ScanError) as exc:
        print(f"djax: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("djax: interrupted", file=sys.stderr)
        return 130
