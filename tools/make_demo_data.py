"""Write small synthetic datasets in the real datasets' on-disk formats (no download needed).

    python tools/make_demo_data.py coco --out data/demo_coco [--num-train 300 --num-val 60 --seed 0]
    python tools/make_demo_data.py cityscapes --out data/demo_cityscapes [--num-train 120 --num-val 30 --size 256 512]

Each dataset is a sub-command: a function that adds its options to a sub-parser and a function that runs it,
listed in ``SUBCOMMANDS``.
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import Callable

from densenets.engine.cli import command


def _coco_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="data/demo_coco", help="output folder (default: data/demo_coco)")
    p.add_argument("--num-train", type=int, default=300, help="training images (default: 300)")
    p.add_argument("--num-val", type=int, default=60, help="validation images (default: 60)")
    p.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same bytes (default: 0)")


def _coco_run(args: argparse.Namespace) -> None:
    from densenets.datasets.demo import make_coco_demo

    t0 = time.perf_counter()
    paths = make_coco_demo(args.out, num_train=args.num_train, num_val=args.num_val, seed=args.seed)
    print(
        f"wrote {args.num_train} train + {args.num_val} val images under {args.out} "
        f"({paths['train']}, {paths['val']}) in {time.perf_counter() - t0:.1f} s"
    )


def _cityscapes_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="data/demo_cityscapes", help="output folder (default: data/demo_cityscapes)")
    p.add_argument("--num-train", type=int, default=120, help="training images (default: 120)")
    p.add_argument("--num-val", type=int, default=30, help="validation images (default: 30)")
    p.add_argument("--num-test", type=int, default=0, help="test images, without labels (default: 0)")
    p.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same files (default: 0)")
    p.add_argument("--size", type=int, nargs=2, default=(256, 512), metavar=("H", "W"), help="default: 256 512")
    p.add_argument("--no-color", action="store_true", help="skip the _gtFine_color.png visualisations")


def _cityscapes_run(args: argparse.Namespace) -> None:
    from densenets.datasets.demo.cityscapes_demo import make_cityscapes_demo

    t0 = time.perf_counter()
    counts = make_cityscapes_demo(args.out, num_train=args.num_train, num_val=args.num_val, num_test=args.num_test,
                                  seed=args.seed, size=args.size, with_color=not args.no_color)
    print(f"wrote {counts} Cityscapes-layout images ({args.size[0]}x{args.size[1]}) under {args.out} "
          f"in {time.perf_counter() - t0:.1f} s")


#: name -> (help, add_arguments, run)
SUBCOMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], None]]] = {
    "coco": ("COCO-format detection demo (shapes on cluttered backgrounds)", _coco_args, _coco_run),
    "cityscapes": ("Cityscapes-layout segmentation demo (synthetic street scenes)", _cityscapes_args, _cityscapes_run),
}


@command
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="dataset", required=True, metavar="DATASET")
    for name, (help_text, add_args, run) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        add_args(p)
        p.set_defaults(run=run)
    args = parser.parse_args(argv)
    args.run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
