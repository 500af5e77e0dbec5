"""``python -m benchmarks run [--sizes 1k,10k] [--quick] [--out benchmarks/results]``.

See :mod:`benchmarks.run`.
"""

from __future__ import annotations

import sys

from benchmarks.run import main

if __name__ == "__main__":
    sys.exit(main())
