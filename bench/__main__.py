"""`make bench` / `python -m bench [name ...]`: the benchmarks. Each prints its figures beside a floor;
docs/performance.md records them. With no name, every benchmark runs."""

import importlib
import sys

# name → module under bench/ with a main(argv) -> int
BENCHMARKS = {"cases": "bench.cases", "excel": "bench.excel"}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-h", "--help"):
        print("用法：python -m bench [基准名 [参数...]]；基准：" + "、".join(BENCHMARKS))
        return 0
    if argv and not argv[0].startswith("-"):
        name, rest = argv[0], argv[1:]
        if name not in BENCHMARKS:
            print(f"未知的基准“{name}”；可选：{'、'.join(BENCHMARKS)}", file=sys.stderr)
            return 2
        return importlib.import_module(BENCHMARKS[name]).main(rest)
    status = 0
    for module in BENCHMARKS.values():
        status = importlib.import_module(module).main(argv) or status
    return status


if __name__ == "__main__":
    sys.exit(main())
