"""Pure metric functions: how close two embedding spaces, rankings or vector sets are. No I/O, no config."""
