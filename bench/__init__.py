"""Speed and scale figures for the service: `python -m bench` (see bench/REPORT.md)."""
