"""Running it: the run report, monitors, stats names, log formatting, exit codes, signals.
"""
