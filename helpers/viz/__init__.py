"""Figures and interactive panels, one module per chapter group; they draw, they never compute results."""
