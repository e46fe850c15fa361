"""Built-in report definitions (YAML), shipped as package data."""
