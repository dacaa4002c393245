"""bench/run's driver (python3 standard library only): bench/run and bench/soak
are its two entry points (cli.py); the rest is split by concern: workspace
(temporary directory, raw figures, child processes), servers (srmi and nginx),
wrk (runs, runs in turns, joining parts), client (JSON-RPC and /metrics),
loads (what runs beside wrk), measurements (single-client figures), scenarios,
soak, and report (the targets and the table)."""
