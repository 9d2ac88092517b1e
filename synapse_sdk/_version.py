__version__ = "0.1.0"

#: The distribution (what ``pip install`` names) that ships the ``synapse_sdk`` import package.
#: Not ``synapse-sdk``: on PyPI that name is a different SDK. Code looks its metadata up by this.
DISTRIBUTION = "synapse-plugin-sdk"
