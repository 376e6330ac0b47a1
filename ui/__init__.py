"""The UI parts the pages are built from: controls, runs, figures, export, navigation."""
