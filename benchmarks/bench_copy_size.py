"""What LadybugDB's COPY and CHECKPOINT cost by the size of each COPY: the same SYNTHETIC rows written as one
statement or as many, each in its own transaction, then checkpointed. This is why an ingest's writer merges the
batches it finds waiting (``ingest/worker.py``), and why a snapshot's batches are 2**17 models
(``ingest/sources.py``): LadybugDB keeps a node table in groups of 2**17 rows, and the default run shows that four
COPYs that each fill a whole group checkpoint as fast as one COPY, while ten that share groups take much longer.

    python benchmarks/bench_copy_size.py --rows 524288 --parts 1 4 10

The table is shaped like the Model table: two unique strings (the primary key, and the id), an integer, a repeated
string, and null string columns.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import ladybug
import pyarrow as pa

from scratch import scratch

NULL_COLUMNS = 15


def table(rows: int) -> pa.Table:
    keys = pa.array([f"synthetic-org{i % 997}/model-{i}" for i in range(rows)])
    columns = {"key": keys, "id": keys, "downloads": pa.array(range(rows), pa.int64()),
               "license": pa.array(["apache-2.0"] * rows)}
    columns.update({f"x{i}": pa.nulls(rows, pa.string()) for i in range(NULL_COLUMNS)})
    return pa.table(columns)


def measure(rows: pa.Table, parts: int, work: Path) -> tuple[float, float]:
    """(seconds of COPY statements, seconds of the checkpoint after them), in a new database under ``work``."""
    folder = Path(tempfile.mkdtemp(dir=work))
    db = ladybug.Database(str(folder / "db"), auto_checkpoint=False)
    conn = ladybug.Connection(db)
    nulls = "".join(f", x{i} STRING" for i in range(NULL_COLUMNS))
    conn.execute(f"CREATE NODE TABLE M(key STRING PRIMARY KEY, id STRING, downloads INT64, license STRING{nulls})")
    conn.execute("CHECKPOINT")
    step = -(-rows.num_rows // parts)
    started = time.perf_counter()
    for offset in range(0, rows.num_rows, step):
        conn.execute("BEGIN TRANSACTION")
        conn.execute("COPY M FROM $t", {"t": rows.slice(offset, step)})
        conn.execute("COMMIT")
    copied = time.perf_counter()
    conn.execute("CHECKPOINT")
    checkpointed = time.perf_counter()
    conn.close()
    db.close()
    shutil.rmtree(folder, ignore_errors=True)
    return copied - started, checkpointed - copied


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=4 << 17)
    ap.add_argument("--parts", type=int, nargs="+", default=[1, 4, 10])
    ap.add_argument("--runs", type=int, default=2, help="each size this many times, interleaved")
    args = ap.parse_args()
    rows = table(args.rows)
    work = scratch("ptmgraph-bench-copy-")
    print(f"{args.rows:,} SYNTHETIC rows; LadybugDB {ladybug.__version__}")
    print(f"{'COPY statements':>16} {'rows each':>10} {'COPY s':>8} {'checkpoint s':>13}")
    for _ in range(args.runs):
        for parts in args.parts:
            copy, checkpoint = measure(rows, parts, work)
            print(f"{parts:>16} {-(-args.rows // parts):>10,} {copy:>8.2f} {checkpoint:>13.2f}")


if __name__ == "__main__":
    main()
