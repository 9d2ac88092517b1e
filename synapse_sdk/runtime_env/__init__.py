"""Runtime environments: what a release needs (``RuntimeEnvSpec``) and the cached venvs built from it."""
