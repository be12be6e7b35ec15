"""One pass of the daemon: sync the mail, decide, deliver the letters, follow them up and read the answers."""
