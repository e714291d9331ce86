"""`/instructor`: content problems, per-exercise attempts and pass rate, failing checks, learners, CSV."""
