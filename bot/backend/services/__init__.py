"""One module per capability; each function works inside the caller's transaction."""
