"""``BaseUploader``, the class upload plugins subclass (``templates/plugin.py``)."""
