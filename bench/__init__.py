"""RegionAir benchmarks and their SYNTHETIC data generator (see bench/run.py, bench/REPORT.md)."""
