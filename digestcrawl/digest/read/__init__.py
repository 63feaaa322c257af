"""Read a day: the stored articles, cleaned of page residue, with clean titles."""
