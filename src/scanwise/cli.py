"""Command line: ``scanwise demo [--quick] [--png PATH] [--scheduler ADDRESS|local]``,
``scanwise versions [--json]`` (:func:`scanwise.show_versions`) and ``scanwise --version``."""

from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> int:
    from . import __version__

    parser = argparse.ArgumentParser(prog="scanwise", description="Fast scans for NumPy.")
    parser.add_argument("--version", action="version", version=f"scanwise {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    versions = sub.add_parser("versions", help="print the versions a bug report needs")
    versions.add_argument("--json", action="store_true", help="one JSON object")
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
    if args.command == "versions":
        from ._versions import show_versions

        show_versions(as_json=args.json)
    elif args.command == "demo" and args.scheduler:
        from . import demo_dask

        demo_dask.run(args.scheduler, quick=args.quick)
    elif args.command == "demo":
        from . import demo as demo_module

        demo_module.run(quick=args.quick, png=args.png)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
