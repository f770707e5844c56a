"""Benchmarks of the zoo: SSL error (`ssl`), sample quality (`quality`), speed (`speed`).

Each is one command that writes a report (Markdown + CSV + PNG) under
`benchmarks/results/<machine kind>/`:

    ZOO_DATA_DIR=../shared/datasets python -m benchmarks.ssl --scale cpu --seeds 0,1,2
    python -m benchmarks.quality --scale cpu
    python -m benchmarks.speed
"""
