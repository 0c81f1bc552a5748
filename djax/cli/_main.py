"""The ``djax`` command line: argument parsing, then ``djax.jobs``; errors become one line and exit status 2.

    djax run [RUNFILE] [--point FILE] [--set params.M_F=2000] [--format table|json] [--cl 0.9]
                                    observables of a point (default Params.default()) and, for every likelihood
                                    term of the run file, prediction, limit, ratio and ln L, most constraining first
    djax list [terms|presets|observables|parameters] [--preset P] [--format table|json] [--bibtex]
                                    what djax knows: registry terms (values, CL, papers, status, presets),
                                    observables with units, parameters with default priors, presets; --bibtex:
                                    BibTeX of djax, the reference study and a preset's inputs
    djax export wcxf [RUNFILE] [--point FILE] [--set params.K=V] --out FILE [--scale S] [--eft E]
                                    dipole coefficients of a point as a WCxf file (wilson/flavio)
    djax init [PATH]                write a commented copy of the default run file to edit
    djax check [RUNFILE] [--set ..] validate a run file as a job would (registry, curves, priors); run nothing
    djax sample [RUNFILE] [opts]    NUTS posterior sampling (no RUNFILE: the reference analysis)
    djax optimize [RUNFILE] [opts]  multi-start fits and the upper-bound profile
    djax scan [RUNFILE] [opts]      streamed, sharded, resumable scan of the prior box
    djax evidence [RUNFILE] [opts]  Bayesian evidence ln Z by nested sampling -> evidence.json, posterior.nc
    djax plot RUN_DIR               plots of a finished (or interrupted) run
    djax bench [--quick]            benchmarks -> benchmarks/results

    opts: --out DIR  --resume  --overwrite  --set KEY=VALUE (repeatable, e.g. --set sample.num_chains=2)

Exit codes: 0 success; 2 a user-caused error, printed as ``djax: error: <file>[:<line>]: <key>: <what>``;
130 interrupted (SIGINT or SIGTERM; the run folder is resumable with ``--resume``).

Multi-host runs: ``DJAX_DISTRIBUTED=1`` makes the CLI call ``jax.distributed.initialize()`` first (coordinator
from the usual environment); scans then shard over every device of every host and process 0 writes.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

DEFAULT_INIT_PATH = "djax_run.toml"
JOB_HELP = {
    "sample": "NUTS posterior sampling",
    "optimize": "best fit and the upper-bound profile",
    "scan": "streamed, sharded, resumable scan of the prior box",
    "evidence": "Bayesian evidence ln Z by nested sampling (evidence.json, posterior.nc)",
}


def _overrides(args) -> dict:
    from djax.io import parse_set_option

    out = {}
    for item in args.set or ():
        k, v = parse_set_option(item)
        out[k] = v
    return out


def _cmd_job(job: str, args, argv) -> int:
    from djax import jobs

    fn = getattr(jobs, job)
    fn(
        args.runfile,
        overrides=_overrides(args),
        out=args.out,
        resume=True if args.resume else None,
        overwrite=True if args.overwrite else None,
        argv=argv,
    )
    print(f"djax: {job} done")
    return 0


def _cmd_check(args, argv) -> int:
    from djax import jobs

    print(jobs.check(args.runfile, overrides=_overrides(args), job=args.job))
    print("djax check: OK")
    return 0


def _point_sets(args) -> tuple[dict, dict]:
    """Split ``--set`` into point parameters (``params.<key>``) and run-file overrides (everything else)."""
    from djax.io import parse_set_option

    point, run = {}, {}
    for item in args.set or ():
        k, v = parse_set_option(item)
        if k.startswith("params."):
            point[k[len("params.") :]] = v
        else:
            run[k] = v
    return point, run


def _cmd_run(args, argv) -> int:
    from djax.report import run_report

    point, run = _point_sets(args)
    print(run_report(args.runfile, point=args.point, sets=point, overrides=run, fmt=args.format, cl=args.cl))
    return 0


def _cmd_list(args, argv) -> int:
    from djax.report import bibtex_report, list_report

    if args.bibtex:
        print(bibtex_report(args.preset, registry=args.registry), end="")
    else:
        print(list_report(args.kind, preset=args.preset, fmt=args.format, registry=args.registry))
    return 0


def _cmd_export(args, argv) -> int:
    from djax.report import export_report

    point, run = _point_sets(args)
    print(
        export_report(
            args.runfile, out=args.out, point=args.point, sets=point, overrides=run, scale=args.scale, eft=args.eft
        )
    )
    return 0


def _cmd_init(args, argv) -> int:
    from djax.errors import DjaxError
    from djax.io import atomic_write_text, default_run_text

    path = Path(args.path)
    if path.is_dir():
        path = path / DEFAULT_INIT_PATH
    if path.exists() and not args.overwrite:
        raise DjaxError(path, "init", "exists; pass --overwrite to replace it")
    atomic_write_text(path, default_run_text())
    print(f"wrote {path}; edit it, then run `djax sample {path}`")
    return 0


def _cmd_plot(args, argv) -> int:
    from djax.plotting import plot_run

    for p in plot_run(Path(args.run_dir), fmt=args.format):
        print(f"wrote {p}")
    return 0


def _cmd_bench(args, argv) -> int:
    from djax.bench import SUITES, run_bench

    res = run_bench(quick=args.quick, out_dir=args.out, suites=args.suite or list(SUITES))
    for name, r in res.items():
        print(f"{name}: wrote {r['files']['json']} and {r['files']['md']}")
    return 0


def _add_runfile_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "runfile",
        nargs="?",
        default=None,
        help="run file (TOML); default: the embedded reference analysis (see `djax init`)",
    )
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a run-file key, e.g. --set sample.num_chains=2 (repeatable; TOML values)",
    )


def build_parser() -> argparse.ArgumentParser:
    from djax import __version__
    from djax.io import JOBS, PLOT_FORMATS
    from djax.report import FORMATS, LIST_KINDS

    ap = argparse.ArgumentParser(
        prog="djax",
        description="Differentiable dark-sector neutrino-TMM fitter.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--version", action="version", version=f"djax {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("run", help="observables and likelihood terms of one point (default: the benchmark point)")
    p.add_argument(
        "runfile",
        nargs="?",
        default=None,
        help="run file (TOML) giving the likelihood preset and model options; default: the embedded one",
    )
    p.add_argument(
        "--point",
        metavar="FILE",
        default=None,
        help="point file (TOML: M_F, m_S1, m_S2, theta, y_e..yp_tau or y/yp = [..], optional ypE_e..ypE_tau or "
        "ypE = [..] (separate y'_E), g_D, m_Aprime, epsilon); keys not given keep their benchmark value",
    )
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="params.<key>=<value> sets a point parameter (e.g. --set params.M_F=2000); other keys "
        "override the run file (e.g. --set likelihood.preset=full); repeatable",
    )
    p.add_argument("--format", choices=FORMATS, default="table", help="output format (default table)")
    p.add_argument("--cl", type=float, default=0.9, help="confidence level of the 'excluded' flags (default 0.9)")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("list", help="list likelihood terms, presets, observables or parameters; BibTeX of inputs")
    p.add_argument("kind", nargs="?", choices=LIST_KINDS, default="terms", help="what to list (default terms)")
    p.add_argument("--preset", default=None, help="only this likelihood preset's terms / observables")
    p.add_argument("--format", choices=FORMATS, default="table", help="output format (default table)")
    p.add_argument(
        "--bibtex",
        action="store_true",
        help="print BibTeX entries of djax, the reference study and the preset's inputs (default preset paper)",
    )
    p.add_argument(
        "--registry", metavar="TOML", default=None, help="a limit-registry TOML that extends the packaged registry"
    )
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("export", help="export a point's dipole coefficients (WCxf for wilson/flavio)")
    p.add_argument("what", choices=("wcxf",), help="export format")
    p.add_argument("runfile", nargs="?", default=None, help="run file (model.Q_F); default: the embedded one")
    p.add_argument("--point", metavar="FILE", default=None, help="point file (TOML), as for djax run")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="params.<key>=<value>, as for djax run")
    p.add_argument("--out", metavar="FILE", required=True, help="output file (.json or .yaml)")
    p.add_argument(
        "--scale",
        type=float,
        default=None,
        help="scale in GeV the coefficients are labelled with (default 1.0 = flavio's mu-decay scale)",
    )
    p.add_argument(
        "--eft", choices=("WET", "WET-4", "WET-3"), default=None, help="EFT (default WET-4 below 4.2 GeV, WET above)"
    )
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("init", help="write a commented copy of the default run file")
    p.add_argument("path", nargs="?", default=DEFAULT_INIT_PATH, help=f"where (default {DEFAULT_INIT_PATH})")
    p.add_argument("--overwrite", action="store_true", help="replace an existing file")
    p.set_defaults(func=_cmd_init)

    p = sub.add_parser("check", help="validate a run file as a job would (registry, curves, priors); run nothing")
    _add_runfile_options(p)
    p.add_argument("--job", choices=JOBS, default=None, help="check for this job (default: run.job)")
    p.set_defaults(func=_cmd_check)

    for job in JOBS:
        p = sub.add_parser(job, help=JOB_HELP[job])
        _add_runfile_options(p)
        p.add_argument("--out", metavar="DIR", help="run folder (overrides run.output_dir)")
        g = p.add_mutually_exclusive_group()
        g.add_argument("--resume", action="store_true", help="continue an interrupted run in its folder")
        g.add_argument("--overwrite", action="store_true", help="replace an existing run folder")
        p.set_defaults(func=lambda a, argv, job=job: _cmd_job(job, a, argv))

    p = sub.add_parser("plot", help="plots of a run folder")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--format", choices=PLOT_FORMATS, default=None)
    p.set_defaults(func=_cmd_plot)

    p = sub.add_parser("bench", help="benchmark suites (throughput, peers, sampling, scaling); JSON + Markdown")
    p.add_argument("--quick", action="store_true", help="small settings (a few minutes on 2 cores)")
    p.add_argument("--out", metavar="DIR", default=None, help="results folder (default benchmarks/results)")
    p.add_argument(
        "--suite",
        action="append",
        metavar="NAME",
        choices=("throughput", "peers", "sampling", "scaling"),
        help="run only this suite (repeatable; default all)",
    )
    p.set_defaults(func=_cmd_bench)
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``djax`` console script; returns the exit status."""
    from djax.errors import DjaxError
    from djax.precision import enable_x64

    enable_x64()
    if os.environ.get("DJAX_DISTRIBUTED") == "1":
        import jax

        jax.distributed.initialize()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args, ["djax", *argv]) or 0)
    except DjaxError as exc:
        print(f"djax: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # permissions, missing folders, a full disk: user-caused, not a djax bug
        where = exc.filename or "<file system>"
        print(f"djax: error: {where}: {type(exc).__name__}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        job = getattr(args, "command", "")
        hint = (
            (
                f"; continue with `djax {job} {args.runfile or ''} --resume"
                + (f" --out {args.out}`" if getattr(args, "out", None) else "`")
            )
            if job in JOB_HELP
            else ""
        )
        print(f"djax: interrupted ({exc or 'SIGINT'}){hint}".replace("  ", " "), file=sys.stderr)
        return 130
