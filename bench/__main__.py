"""`make bench`: the benchmarks. Each prints its figures beside a floor; docs/performance.md records them."""

import sys


def main() -> int:
    print("尚无基准测试。")
    return 0


if __name__ == "__main__":
    sys.exit(main())
