"""``python -m onnxproof.runtimes.workers FD``: a worker serving one runtime on socket FD."""

from __future__ import annotations

import sys
from multiprocessing.connection import Connection

from onnxproof.runtimes.workers._child import serve

if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])))
