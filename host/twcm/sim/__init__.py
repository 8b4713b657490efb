"""Simulated slave TWCs: a car model, the slave itself, an in-process bus
with simulated time, and a runner for a real serial port."""
