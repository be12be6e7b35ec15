"""The commands a user types beside the daemon: backfill, claim actions, not received, demo, doctor, round trip,
report, printing."""
