"""Importable UI logic behind the pages; this folder is not a page itself."""
