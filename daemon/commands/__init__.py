"""The commands a user types beside the daemon: backfill, claim actions, demo, doctor, round trip, report, printing."""
