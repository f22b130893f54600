"""End-to-end tests: engine + client against the Immich simulator over real HTTP."""
