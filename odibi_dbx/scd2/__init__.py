"""SCD type 2 writes (mode: scd2) on Delta: one MERGE per batch, both engines."""
