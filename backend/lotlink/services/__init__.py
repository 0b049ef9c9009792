"""The write path's services: one concept per module. Routes and CLI commands call these; they
raise domain errors (`lotlink.errors`) and never build HTTP responses."""
