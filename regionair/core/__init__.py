"""Standards, AQI, averages, units, the region catalogue and the text catalogue: pure, no I/O but data files."""
