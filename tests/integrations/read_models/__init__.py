"""The read models every surface shows the same way (integrations.read_models)."""
