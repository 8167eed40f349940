"""Demo data and the simulator."""
