"""The state file: the SQLite store, its stamp, and the lossless records of events it keeps."""
