"""Writers render a finished run (or one case) to a file or to text; they never recompute a score."""
