"""The compile pipeline: the Session that chains the stages for a description, the jobs it gives the
engine, and --watch."""
