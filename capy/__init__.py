"""Code shared by both capy providers, and the `capy` command."""
