"""The web pages the backend serves: the help page with the chat widget and the pages e-mailed links open."""
