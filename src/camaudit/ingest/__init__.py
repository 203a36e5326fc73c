"""See the package docstring of camaudit."""
