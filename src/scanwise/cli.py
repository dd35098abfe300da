"""Command line: ``scanwise demo [--quick] [--png PATH] [--scheduler ADDRESS|local]``."""

from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scanwise", description="Fast scans for NumPy.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="show the slow recipes people use, solved")
    demo.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    demo.add_argument("--png", default=None, help="where to write the bar chart")
    demo.add_argument(
        "--scheduler",
        default=None,
        help="run the [100000, 1000] cumsum on a Dask cluster: a scheduler address, "
        "or 'local' for a LocalCluster of two worker processes",
    )
    args = parser.parse_args(argv)
    if args.command == "demo" and args.scheduler:
        from . import demo_dask

        demo_dask.run(args.scheduler, quick=args.quick)
    elif args.command == "demo":
        from . import demo as demo_module

        demo_module.run(quick=args.quick, png=args.png)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
