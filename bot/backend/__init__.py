"""The help desk's backend: the system of record behind the action server (see DESIGN.md)."""
