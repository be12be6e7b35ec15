"""The commands a user types beside the daemon: init, backfill, dry run, claim actions, not received, demo, doctor,
round trip, report, printing."""
