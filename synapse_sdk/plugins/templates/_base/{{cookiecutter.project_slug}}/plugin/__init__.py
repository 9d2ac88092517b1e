"""{{ cookiecutter.name }}: a Synapse {{ cookiecutter.category }} plugin, one module per action."""
