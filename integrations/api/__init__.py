"""The versioned REST API under ``/api/v1/``: everything the pages can do, for scripts."""
