"""The lstm-complete language server."""
