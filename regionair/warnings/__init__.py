"""Heavy-pollution warning schemes, the warnings desk (near-threshold, budget, levels) and alert delivery."""
