"""The JSON API (/api/v1, /healthz) and the one table that maps domain errors to HTTP problems."""
