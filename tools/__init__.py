"""The project's machinery, which no chapter imports.

Run stamps of executed chapters, the README's findings, output checks of executed chapters and of the book, and
the comparison of two results folders.
"""
