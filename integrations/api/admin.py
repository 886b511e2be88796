"""Admin screens for this part of the product."""
