"""Bytes of one email in, typed events out. Pure: no I/O, no clock, no logging."""
