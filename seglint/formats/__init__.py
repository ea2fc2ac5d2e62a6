"""Input formats; each module registers one format through the seglint.formats hook."""
