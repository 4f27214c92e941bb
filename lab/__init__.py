"""The workload lab: experiments that run Dynamo Lab end to end and draw plots.

Each experiment is a module run with `python -m lab.<experiment>`; it starts
its own `dynamo serve`, drives it (with `dynamo bench` or a Locust workload
from `workloads/`), prints a table as it goes and writes its results (JSON,
CSV) and figures (PNG) into `lab/out/`, or the directory given with `--out`.
See lab/README.md for what each one shows.
"""
